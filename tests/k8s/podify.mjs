// SPDX-License-Identifier: GPL-2.0-only
// The DaemonSet's pod template as a Pod for `podman kube play` (podman 4.3
// plays Pods and Deployments, not DaemonSets), with its ConfigMaps, adapted
// to a lab node: the interfaces, and sipd.json replaced by the lab's. The
// template itself (containers, capabilities, mounts, probes, preStop) is
// played unchanged. One adaptation: restartPolicy OnFailure, because podman
// 4.3 restarts init containers that exited 0 under "Always" (Kubernetes
// runs them once per pod start).
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
for (const d of docs) {
	if (d.kind !== "ConfigMap") continue;
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
spec.restartPolicy = "OnFailure";
out.push({
	apiVersion: "v1",
	kind: "Pod",
	metadata: { name, labels: ds.spec.template.metadata?.labels ?? {} },
	spec,
});
process.stdout.write(out.map((d) => yaml.dump(d, { lineWidth: -1 })).join("---\n"));
