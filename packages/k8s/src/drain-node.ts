/**
 * Takes a node out of a cluster before its VM goes, as `kubectl drain` + `kubectl delete node` do:
 * cordon (spec.unschedulable), evict every pod that is not a DaemonSet's or a mirror pod (Eviction
 * API, so PodDisruptionBudgets are honoured; a pod already gone is fine), wait until they left
 * (bounded), then delete the Node object. Talks to the API server with the given kubeconfig.
 * The node's zgrid PersistentVolume (`zgrid-pv-<node>`, on a disk that goes with the VM) guards
 * the data on it: while it is bound to a claim the node is not touched and a typed error says so
 * (unless `dropVolume`); once the node is gone an unbound one is deleted.
 *
 * @example
 * ```ts
 * await drainAndDeleteNode(await k8s.kubeconfig("demo"), "demo-w3");
 * ```
 */
import { CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { K8sVolumeInUseError } from "./errors.ts";

const code = (e: unknown) => (e as { code?: number }).code;

export async function drainAndDeleteNode(kubeconfig: string, nodeName: string, o: { timeoutMs?: number; dropVolume?: boolean } = {}): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const pvName = `zgrid-pv-${nodeName}`;
  const pv = await core.readPersistentVolume({ name: pvName }).catch((e: unknown) => { if (code(e) === 404) return undefined; throw e; });
  const claim = pv?.spec?.claimRef;
  if (claim && pv?.status?.phase !== "Available" && !o.dropVolume) {
    throw new K8sVolumeInUseError(`node ${nodeName} holds PersistentVolume ${pvName}, bound to claim ${claim.namespace ?? "default"}/${claim.name ?? "?"}: removing the node would delete its data`, {
      details: { node: nodeName, volume: pvName, claim: `${claim.namespace ?? "default"}/${claim.name ?? ""}` },
      hint: "move the data off and delete the claim first, or pass --drop-volumes to delete the volume with the node",
    });
  }
  let node;
  try {
    node = await core.readNode({ name: nodeName });
  } catch (e) {
    if (code(e) === 404) return; // never joined, or already deleted
    throw e;
  }
  if (!node.spec?.unschedulable) {
    node.spec = { ...node.spec, unschedulable: true };
    await core.replaceNode({ name: nodeName, body: node });
  }
  const evictable = (p: V1Pod) => !p.metadata?.ownerReferences?.some((r) => r.kind === "DaemonSet") && !p.metadata?.annotations?.["kubernetes.io/config.mirror"] && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";
  const podsOn = async () => (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` })).items.filter(evictable);
  for (const p of await podsOn()) {
    const name = p.metadata!.name!, namespace = p.metadata!.namespace!;
    try {
      // policy/v1beta1: the Eviction version Kubernetes 1.20 serves (policy/v1 came in 1.22)
      await core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: "policy/v1beta1", kind: "Eviction", metadata: { name, namespace } } });
    } catch (e) {
      if (code(e) !== 404) await core.deleteNamespacedPod({ name, namespace }).catch((d: unknown) => { if (code(d) !== 404) throw d; });
    }
  }
  const end = Date.now() + (o.timeoutMs ?? 120_000);
  while ((await podsOn()).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 1000));
  await core.deleteNode({ name: nodeName }).catch((e: unknown) => { if (code(e) !== 404) throw e; });
  if (pv) await core.deletePersistentVolume({ name: pvName }).catch((e: unknown) => { if (code(e) !== 404) throw e; });
}
