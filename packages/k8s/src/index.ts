// @zgrid/k8s public API. See README.md.
export { K8sImageError, K8sPkiError, K8sVolumeInUseError } from "./errors.ts";
export { ensureK8sFlist, K8S_ENTRYPOINT, type K8sFlist, type K8sFlistOptions } from "./k8s-flist.ts";
export { makeClusterCa, adminKubeconfig, bootstrapToken, kubeconfigYaml, type ClusterCa } from "./cluster-pki.ts";
export { clusterModelSchema, nodeNameOf, vmNameOf, projectOf, networkOf, type ClusterModel, type ClusterModelInput } from "./cluster-model.ts";
export { K8sService, type ClusterInfo, type K8sOptions, type NodeRemover } from "./k8s-service.ts";
export { drainAndDeleteNode } from "./drain-node.ts";
export { applyClusterPlan, checkClusterDataLoss, clusterSpecMarker, clusterSpecSchema, deleteClusters, planClusters, type ApplyClustersOptions, type ClusterSpec, type ClusterStep } from "./cluster-spec.ts";
export { LoadBalancerController, type LoadBalancerProvider, type LbService, type LbPassResult } from "./lb-controller.ts";
export { ZgridLbProvider, gatewayNameOf } from "./zgrid-lb-provider.ts";
