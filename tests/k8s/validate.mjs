// SPDX-License-Identifier: GPL-2.0-only
// Offline validation of Kubernetes manifests, two layers:
//  1. the API schema: every document becomes a TypeScript object literal
//     typed with its kubernetes-models interface and `tsc --noEmit --strict`
//     checks it, so an unknown field (excess property) or a wrong type is an
//     error; kubernetes-models' JSON-schema validate() runs as well;
//  2. sipwall's own invariants for its DaemonSet (hostNetwork, bpffs and BTF
//     mounts, pinned tags, least privilege, probes on the metrics endpoint,
//     pins never removed, one pod per node during an update, ...).
// usage: node validate.mjs FILE...   prints "ok FILE" or "reject FILE: why"
// per file; exit 0 when every file is accepted, 1 otherwise, 2 on misuse.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

const here = path.dirname(fileURLToPath(import.meta.url));

// apiVersion/kind -> kubernetes-models module and interface.
const MODELS = {
	"v1/Namespace": ["kubernetes-models/v1/Namespace", "INamespace"],
	"v1/ConfigMap": ["kubernetes-models/v1/ConfigMap", "IConfigMap"],
	"v1/Pod": ["kubernetes-models/v1/Pod", "IPod"],
	"v1/ServiceAccount": ["kubernetes-models/v1/ServiceAccount", "IServiceAccount"],
	"v1/Service": ["kubernetes-models/v1/Service", "IService"],
	"v1/Secret": ["kubernetes-models/v1/Secret", "ISecret"],
	"apps/v1/DaemonSet": ["kubernetes-models/apps/v1/DaemonSet", "IDaemonSet"],
};

const ALLOWED_CAPS = new Set(["BPF", "PERFMON", "NET_ADMIN", "SYS_ADMIN", "NET_RAW"]);
const JUSTIFY = "sipwall.io/privileged-justification";

function loadDocs(file) {
	const docs = yaml.loadAll(fs.readFileSync(file, "utf8")).filter((d) => d != null);
	if (!docs.length) throw new Error("no YAML documents");
	return docs;
}

// Layer 1a: TypeScript excess-property and type checks over every document.
function typeCheck(files, docsOf) {
	const dir = fs.mkdtempSync(path.join(here, "node_modules", ".sipwall-check-"));
	const where = new Map(); // generated file -> [manifest, index, kind/name]
	try {
		files.forEach((file, fi) => {
			docsOf.get(file).forEach((d, i) => {
				const key = `${d.apiVersion}/${d.kind}`;
				const m = MODELS[key];
				if (!m) return; // reported by the caller
				const ts = path.join(dir, `m${fi}_${i}.ts`);
				fs.writeFileSync(ts,
					`import type { ${m[1]} } from "${m[0]}";\n` +
					`export const doc: ${m[1]} = ${JSON.stringify(d, null, 2)};\n`);
				where.set(path.basename(ts), [file, i, `${d.kind} ${d.metadata?.name ?? "?"}`]);
			});
		});
		fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({
			compilerOptions: {
				strict: true, noEmit: true, target: "es2020", module: "nodenext",
				moduleResolution: "nodenext", skipLibCheck: true, types: [],
			},
			include: ["*.ts"],
		}));
		const errs = new Map(files.map((f) => [f, []]));
		try {
			execFileSync(process.execPath, [path.join(here, "node_modules/typescript/bin/tsc"),
				"-p", dir, "--pretty", "false"], { encoding: "utf8", stdio: "pipe" });
		} catch (e) {
			for (const line of String(e.stdout).split("\n")) {
				const mm = /(?:^|\/)(m\d+_\d+\.ts)\(\d+,\d+\): error (TS\d+: .*)$/.exec(line.trim());
				if (!mm) continue;
				const w = where.get(mm[1]);
				if (w) errs.get(w[0]).push(`${w[2]}: ${mm[2]}`);
			}
			if (![...errs.values()].some((l) => l.length))
				throw new Error(`tsc failed: ${e.stdout}${e.stderr}`);
		}
		return errs;
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

// Layer 1b: kubernetes-models' JSON-schema validation.
async function schemaCheck(d) {
	const m = MODELS[`${d.apiVersion}/${d.kind}`];
	const mod = await import(m[0]);
	const cls = mod[m[1].slice(1)];
	try {
		new cls(d).validate();
		return null;
	} catch (e) {
		return `${d.kind} ${d.metadata?.name ?? "?"}: schema: ${e.message.split("\n")[0]}`;
	}
}

function imageTagOk(image) {
	if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
	const last = image.split("/").pop();
	const i = last.lastIndexOf(":");
	return i > 0 && last.slice(i + 1) !== "latest" && last.slice(i + 1) !== "";
}

function isLoopback(listen) {
	return /^127\.\d+\.\d+\.\d+:\d+$/.test(listen) || /^\[::1\]:\d+$/.test(listen);
}

// Layer 2: what sipwall needs from its DaemonSet.
function invariants(docs) {
	const bad = [];
	const ds = docs.filter((d) => d.kind === "DaemonSet");
	if (ds.length !== 1) return [`expected one DaemonSet, found ${ds.length}`];
	const d = ds[0];
	const cms = new Map(docs.filter((x) => x.kind === "ConfigMap").map((x) => [x.metadata?.name, x]));
	const spec = d.spec?.template?.spec ?? {};
	const all = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
	const sipd = (spec.containers ?? []).find((c) => c.name === "sipd");
	const vols = new Map((spec.volumes ?? []).map((v) => [v.name, v]));

	if (spec.hostNetwork !== true)
		bad.push("hostNetwork must be true (XDP, NFQUEUE and the rules act on the node's interfaces)");
	if (!sipd) return bad.concat("no container named sipd");
	if (spec.automountServiceAccountToken !== false)
		bad.push("automountServiceAccountToken must be false (sipwall never talks to the API)");

	const hostVol = (p) => [...vols.values()].find((v) => v.hostPath?.path === p);
	const bpffs = hostVol("/sys/fs/bpf");
	const btf = hostVol("/sys/kernel/btf");
	if (!bpffs) bad.push("no hostPath volume for /sys/fs/bpf (maps must be pinned on the host's bpffs)");
	if (!btf) bad.push("no hostPath volume for /sys/kernel/btf");
	const mounts = (c, v) => (c.volumeMounts ?? []).filter((m) => v && m.name === v.name);
	for (const c of [sipd, ...(spec.initContainers ?? []).filter((c) => c.name === "attach")]) {
		if (bpffs && !mounts(c, bpffs).some((m) => m.mountPath === "/sys/fs/bpf" && !m.readOnly))
			bad.push(`container ${c.name}: /sys/fs/bpf must be mounted read-write at /sys/fs/bpf`);
		if (btf && !mounts(c, btf).some((m) => m.mountPath === "/sys/kernel/btf" && m.readOnly))
			bad.push(`container ${c.name}: /sys/kernel/btf must be mounted read-only`);
	}
	if (!(spec.initContainers ?? []).some((c) => c.name === "attach"))
		bad.push("no init container named attach (the data path)");

	const justified = d.metadata?.annotations?.[JUSTIFY];
	for (const c of all) {
		if (!c.image || !imageTagOk(c.image))
			bad.push(`container ${c.name}: image "${c.image}" needs a pinned tag (not latest) or digest`);
		const sc = c.securityContext ?? {};
		if (sc.privileged === true && !justified)
			bad.push(`container ${c.name}: privileged without a ${JUSTIFY} annotation`);
		if (sc.allowPrivilegeEscalation !== false)
			bad.push(`container ${c.name}: allowPrivilegeEscalation must be false`);
		const caps = sc.capabilities ?? {};
		if (!(caps.drop ?? []).includes("ALL"))
			bad.push(`container ${c.name}: capabilities must drop ALL`);
		for (const a of caps.add ?? [])
			if (!ALLOWED_CAPS.has(a)) bad.push(`container ${c.name}: capability ${a} is not needed`);
		for (const w of [...(c.command ?? []), ...(c.args ?? []),
			...(c.lifecycle?.preStop?.exec?.command ?? [])])
			if (/\brm\b|unlink|umount/.test(w))
				bad.push(`container ${c.name}: "${w}": the pod must never remove pins`);
	}

	const pre = sipd.lifecycle?.preStop?.exec?.command ?? [];
	if (JSON.stringify(pre) !== JSON.stringify(["/usr/sbin/sipwall-node", "detach"]))
		bad.push("sipd needs preStop exec [/usr/sbin/sipwall-node, detach] (detach on delete, pins stay)");

	const us = d.spec?.updateStrategy ?? {};
	if (us.type !== "RollingUpdate")
		bad.push("updateStrategy must be RollingUpdate");
	if (us.rollingUpdate?.maxSurge !== undefined && us.rollingUpdate.maxSurge !== 0 &&
	    us.rollingUpdate.maxSurge !== "0%")
		bad.push("updateStrategy.rollingUpdate.maxSurge must be 0 (two sipd cannot bind one NFQUEUE)");

	// The config: present, valid JSON, metrics on loopback, probes on it.
	const cfgVol = [...vols.values()].find((v) => v.configMap);
	const cfgMap = cfgVol && cms.get(cfgVol.configMap.name);
	if (!cfgVol) bad.push("no ConfigMap volume with sipd.json");
	else if (!cfgMap) bad.push(`ConfigMap ${cfgVol.configMap.name} is not in this file`);
	let cfg = null;
	if (cfgMap) {
		try {
			cfg = JSON.parse(cfgMap.data?.["sipd.json"] ?? "");
		} catch (e) {
			bad.push(`ConfigMap ${cfgMap.metadata.name}: sipd.json is not JSON (${e.message})`);
		}
	}
	if (cfg) {
		const listen = cfg.metrics?.listen;
		if (!listen) bad.push("sipd.json: metrics.listen must be set (the probes use it)");
		else if (!isLoopback(listen)) bad.push(`sipd.json: metrics.listen ${listen} must be loopback`);
		const port = listen ? Number(listen.split(":").pop()) : NaN;
		for (const [kind, p, want] of [["livenessProbe", sipd.livenessProbe, "/healthz"],
			["readinessProbe", sipd.readinessProbe, "/readyz"]]) {
			const g = p?.httpGet;
			if (!g) { bad.push(`sipd: ${kind} must be an httpGet on the metrics endpoint`); continue; }
			if (g.port !== port) bad.push(`sipd: ${kind} port ${g.port} is not metrics.listen's ${port}`);
			if (g.host !== "127.0.0.1" && g.host !== "::1")
				bad.push(`sipd: ${kind} host must be 127.0.0.1 (the endpoint is loopback only)`);
			if (g.path !== want) bad.push(`sipd: ${kind} path must be ${want}`);
		}
		const pin = cfg.pin_path ?? "/sys/fs/bpf/sipwall";
		if (!pin.startsWith("/sys/fs/bpf/")) bad.push(`sipd.json: pin_path ${pin} is not under /sys/fs/bpf`);
		for (const c of all)
			for (const ef of c.envFrom ?? []) {
				const env = cms.get(ef.configMapRef?.name);
				if (!env) { bad.push(`container ${c.name}: envFrom ConfigMap ${ef.configMapRef?.name} is not in this file`); continue; }
				const p = env.data?.SIPWALL_PIN_PATH ?? "/sys/fs/bpf/sipwall";
				if (p !== pin) bad.push(`SIPWALL_PIN_PATH ${p} differs from sipd.json pin_path ${pin}`);
				if (!(env.data?.SIPWALL_IFACES ?? "").trim()) bad.push("SIPWALL_IFACES is empty");
			}
	}
	return bad;
}

async function main() {
	const files = process.argv.slice(2);
	if (!files.length) {
		console.error("usage: node validate.mjs FILE...");
		process.exit(2);
	}
	const docsOf = new Map();
	const why = new Map(files.map((f) => [f, []]));
	for (const f of files) {
		try {
			docsOf.set(f, loadDocs(f));
		} catch (e) {
			why.get(f).push(`YAML: ${e.message.split("\n")[0]}`);
			docsOf.set(f, []);
		}
		for (const d of docsOf.get(f))
			if (!MODELS[`${d.apiVersion}/${d.kind}`])
				why.get(f).push(`unsupported apiVersion/kind ${d.apiVersion}/${d.kind}`);
	}
	const tsErrs = typeCheck(files, docsOf);
	for (const f of files) {
		why.get(f).push(...tsErrs.get(f));
		for (const d of docsOf.get(f)) {
			if (!MODELS[`${d.apiVersion}/${d.kind}`]) continue;
			const e = await schemaCheck(d);
			if (e) why.get(f).push(e);
		}
		if (docsOf.get(f).some((d) => d.kind === "DaemonSet") && !why.get(f).length)
			why.get(f).push(...invariants(docsOf.get(f)));
	}
	let rc = 0;
	for (const f of files) {
		const w = why.get(f);
		if (w.length) {
			rc = 1;
			for (const r of w) console.log(`reject ${f}: ${r}`);
		} else {
			console.log(`ok ${f}`);
		}
	}
	process.exit(rc);
}

main().catch((e) => {
	console.error(`validate: ${e.stack}`);
	process.exit(2);
});
