// SPDX-License-Identifier: GPL-2.0-only
// The DaemonSet's pod template as a Pod for `podman kube play` (podman 4.3
// plays Pods and Deployments, not DaemonSets), with its ConfigMaps, adapted
// to a lab node: the interfaces, and sipd.json replaced by the lab's. The
// template itself (containers, capabilities, mounts, probes, preStop) is
// played unchanged. One adaptation: restartPolicy OnFailure, because podman
// 4.3 restarts init containers that exited 0 under "Always" (Kubernetes
// runs them once per pod start). And each ConfigMap is renamed after the
// pod: podman 4.3 turns a configMap volume into a named volume that outlives
// the pod, and such a volume left over from an earlier boot keeps a lock
// number podman no longer reserves, so a new pod given that number deadlocks
// `podman kube play` on itself; a per-run name never meets an old volume.
// usage: node podify.mjs MANIFEST SIPD_JSON IFACES POD_NAME > pod.yaml
import fs from "node:fs";
import yaml from "js-yaml";

const [manifest, sipdJson, ifaces, name] = process.argv.slice(2);
if (!name) {
	console.error("usage: node podify.mjs MANIFEST SIPD_JSON IFACES POD_NAME");
	process.exit(2);
}
const docs = yaml.loadAll(fs.readFileSync(manifest, "utf8")).filter((d) => d);
const ds = docs.find((d) => d.kind === "DaemonSet");
const cfgText = fs.readFileSync(sipdJson, "utf8");
const cfg = JSON.parse(cfgText);
const out = [];
const cmName = new Map();
for (const d of docs) {
	if (d.kind !== "ConfigMap") continue;
	cmName.set(d.metadata.name, `${name}-${d.metadata.name}`);
	d.metadata.name = cmName.get(d.metadata.name);
	if (d.data?.["sipd.json"] !== undefined) d.data["sipd.json"] = cfgText;
	if (d.data?.SIPWALL_IFACES !== undefined) {
		d.data.SIPWALL_IFACES = ifaces;
		d.data.SIPWALL_PIN_PATH = cfg.pin_path ?? "/sys/fs/bpf/sipwall";
	}
	delete d.metadata.namespace;
	out.push(d);
}
const spec = structuredClone(ds.spec.template.spec);
// The Redis credentials Secret (cluster replication, off in the lab pod)
// is not part of the played pod: its optional volume goes.
const secretVols = new Set((spec.volumes ?? []).filter((v) => v.secret).map((v) => v.name));
spec.volumes = (spec.volumes ?? []).filter((v) => !secretVols.has(v.name));
for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])])
	c.volumeMounts = (c.volumeMounts ?? []).filter((m) => !secretVols.has(m.name));
for (const v of spec.volumes) if (v.configMap && cmName.has(v.configMap.name)) v.configMap.name = cmName.get(v.configMap.name);
for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])])
	for (const e of c.envFrom ?? []) if (e.configMapRef && cmName.has(e.configMapRef.name)) e.configMapRef.name = cmName.get(e.configMapRef.name);
spec.restartPolicy = "OnFailure";
out.push({
	apiVersion: "v1",
	kind: "Pod",
	metadata: { name, labels: ds.spec.template.metadata?.labels ?? {} },
	spec,
});
process.stdout.write(out.map((d) => yaml.dump(d, { lineWidth: -1 })).join("---\n"));
