"""Real manifests from public projects: no false errors, from any rule.

Each error that remains was investigated: the manifest truly cannot be applied on the
selected version, for the reason written beside it.
"""

import pytest
from conftest import CORPUS, require_shared

# the whole real-world corpus, linted once for the module (a few seconds): CI runs it
pytestmark = pytest.mark.slow

GKE = "GoogleCloudPlatform__kubernetes-engine-samples/"
ARMOR = GKE + "ai-ml/gke-model-armor/preparing-the-model/"
EXAMPLES = "kubernetes__examples/_archived/"
TRULY_BROKEN = {
    # published samples with mis-indented YAML (the corpus's own notes say so)
    (ARMOR + "llm-service.yaml", "yaml-syntax"): "mis-indented ports item",
    (ARMOR + "producer-job.yaml", "yaml-syntax"): "mis-indented mapping",
    (ARMOR + "vllm-gemma-deployment.yaml", "yaml-syntax"): "mis-indented mapping",
    # a bare `PORT` placeholder where an integer port must be: the file is sed-rendered first
    (GKE + "networking/sctp/sctp-deployment.yaml", "schema"): "containerPort/port: PORT is a string",
    (GKE + "networking/sctp/sctp-deployment.yaml", "service-target-port"): "targetPort: PORT is no port name",
    # container port protocol written `tcp`: protocols are case-sensitive (NotSupported)
    (EXAMPLES + "volumes/aws_ebs/aws-ebs-web.yaml", "container-port-protocol"): "protocol: tcp",
    (EXAMPLES + "volumes/cinder/cinder-web.yaml", "container-port-protocol"): "protocol: tcp",
    # `lun: <ADD LUN ID Here>`: a fill-in-the-blank value for an integer field
    (EXAMPLES + "volumes/fibre_channel/fc.yaml", "schema"): "lun is a placeholder string",
    # fields that RBDVolumeSource never had (strict decoding rejects unknown fields)
    (EXAMPLES + "volumes/rbd/rbd.yaml", "schema"): "imageformat/imagefeatures are not API fields",
    # a typo in the sample: protectionDoamin
    (EXAMPLES + "volumes/scaleio/pod.yaml", "schema"): "misspelt protectionDomain",
    # StorageOSVolumeSource has no `pool` field
    (EXAMPLES + "volumes/storageos/storageos-pod.yaml", "schema"): "pool is not an API field",
    # a kustomize fixture's Deployment written `group: apps` + `apiVersion: v1`: `group` is no
    # Kubernetes field, and v1 serves no Deployment ("no matches for kind" from kubectl)
    ("kubernetes-sigs__kustomize/examples/transformerconfigs/images/resources.yaml", "unknown-kind"):
        "Deployment in v1",
    # an envsubst template whose InferencePool names no apiVersion: kubectl refuses the document
    # ("Object 'apiVersion' is missing") before and after the variables are filled in
    (("GoogleCloudPlatform__kubernetes-engine-samples/ai-ml/infw-gw/examples/getting-started/"
      "inference-pool-variables.yaml"), "unknown-kind"): "InferencePool without apiVersion",
    **{(folder + "/kustomization.yaml", "kustomize-build-failed"): why for folder, why in {
        # `resources: [../tgi-2b.yaml]`: a file above the kustomization, which kustomize's default
        # load restrictor refuses (`kubectl apply -k` fails the same way; only
        # `kustomize build --load-restrictor LoadRestrictionsNone` builds these)
        **{GKE + f"ai-ml/llm-serving-gemma/{server}": "file above the root" for server in (
            "tgi/tgi-2b-bitsandbytes-nf4", "tgi/tgi-2b-bitsandbytes", "tgi/tgi-2b-parallel",
            "tgi/tgi-7b-bitsandbytes-nf4", "tgi/tgi-7b-bitsandbytes", "tgi/tgi-7b-token", "vllm/vllm-2b-awq",
            "vllm/vllm-2b-parallel", "vllm/vllm-7b-awq", "vllm/vllm-7b-kvcache", "vllm/vllm-7b-token")},
        # the corpus copied Service and workload manifests only: the namespaces, config maps,
        # secrets, property files and bases these kustomizations list were left behind
        GKE + "ai-ml/anthropic-agent-sandbox/deploy/base": "namespace.yaml not copied",
        **{GKE + f"quickstarts/whereami/{overlay}": "base's configmap not copied" for overlay in (
            "k8s-backend-overlay-example", "k8s-frontend-overlay-clusterip-example",
            "k8s-grpc-clusterip-backend-overlay-example", "k8s-grpc-headless-backend-overlay-example")},
        "kubernetes-sigs__kustomize/examples/helloWorld": "configMap.yaml not copied",
        "kubernetes-sigs__kustomize/examples/ldap/overlays/production": "env.startup.txt not copied",
        "kubernetes-sigs__kustomize/examples/ldap/overlays/staging": "env.startup.txt not copied",
        "kubernetes-sigs__kustomize/examples/springboot/overlays/production": "application.properties not copied",
        "kubernetes-sigs__kustomize/examples/transformerconfigs/images": "kustomizeconfig/ not copied",
        "kubernetes-sigs__kustomize/examples/wordpress": "secret.yaml not copied",
    }.items()},
}


@pytest.fixture(scope="module")
def corpus_report(registry):
    from kubelint_svc.inputs import discover
    from kubelint_svc.runner import Settings, lint_files

    return lint_files(discover([str(require_shared(CORPUS))]), Settings("1.37"), registry)


# Cross-object errors, each read: the corpus copied only Service and workload manifests, so
# the files that create these Pods upstream are missing here.
KUBE_PROMETHEUS = "prometheus-operator__kube-prometheus/"
SELECTS_PODS_NOT_IN_THE_CORPUS = {
    # upstream, a Prometheus / Alertmanager custom resource beside each Service creates the Pods
    # (custom resources in the same folder lower this to an info): not copied into the corpus
    KUBE_PROMETHEUS + "examples/example-app/prometheus-frontend-svc.yaml": "Prometheus CR not copied",
    KUBE_PROMETHEUS + "manifests/alertmanager-service.yaml": "Alertmanager CR not copied",
    KUBE_PROMETHEUS + "manifests/prometheus-service.yaml": "Prometheus CR not copied",
    # the vtgate/vtctld controllers upstream are `{{ }}` templates, which the corpus skipped
    EXAMPLES + "storage/vitess/vtctld-service.yaml": "controller template not copied",
    EXAMPLES + "storage/vitess/vtgate-service.yaml": "controller template not copied",
    # the DCGM exporter comes from NVIDIA's Helm chart, installed apart from these files
    "kubernetes__examples/AI/vllm-deployment/hpa/gpu-dcgm-exporter-service-generic.yaml": "Helm-installed exporter",
}


def test_only_truly_broken_manifests_get_errors(corpus_report):
    found = {
        (f.file.split("real-world/", 1)[-1], f.rule)
        for f in corpus_report.findings
        if f.severity == "error" and f.rule not in ("removed-api", "service-selector-no-match")
    }
    assert found == set(TRULY_BROKEN)


def test_cross_object_errors_are_the_ones_read_and_explained(corpus_report):
    found = {
        f.file.split("real-world/", 1)[-1]
        for f in corpus_report.findings
        if f.severity == "error" and f.rule == "service-selector-no-match"
    }
    assert found == set(SELECTS_PODS_NOT_IN_THE_CORPUS)


def test_a_key_repeated_with_the_same_value_is_a_warning(corpus_report):
    # `selector:` written twice, with the same value, in three archived ReplicationControllers:
    # kubectl keeps the later (equal) value, so nothing is lost; kustomize would refuse the file
    repeated = {
        (f.file.split("real-world/", 1)[-1], f.severity)
        for f in corpus_report.findings
        if f.rule == "yaml-duplicate-key"
    }
    assert repeated == {
        (EXAMPLES + "openshift-origin/etcd-controller.yaml", "warning"),
        (EXAMPLES + "openshift-origin/etcd-discovery-controller.yaml", "warning"),
        (EXAMPLES + "openshift-origin/openshift-controller.yaml", "warning"),
    }


def test_operator_made_pods_are_not_errors(corpus_report):
    lws = GKE + "ai-ml/llm-multihost-gpus/vllm-llama3-405b-A3.yaml"
    [finding] = [f for f in corpus_report.findings if f.file.endswith(lws) and f.rule == "service-selector-no-match"]
    assert finding.severity == "info"
    assert "LeaderWorkerSet" in finding.message


def test_removed_apis_in_the_corpus_are_real_removals(corpus_report):
    removed = {
        (f.object.api_version, f.object.kind)
        for f in corpus_report.findings
        if f.rule == "removed-api"
    }
    # all of these were removed in 1.16 - 1.26; none can be applied to a 1.30+ cluster
    assert removed == {
        ("apps/v1beta1", "Deployment"),
        ("extensions/v1beta1", "DaemonSet"),
        ("autoscaling/v2beta2", "HorizontalPodAutoscaler"),
        ("policy/v1beta1", "PodDisruptionBudget"),
    }


def test_the_whole_corpus_is_read(corpus_report):
    assert corpus_report.files >= 637
    # fewer objects than documents: those of kustomizations that cannot build here, and files no
    # kustomization lists, are not judged
    assert corpus_report.objects >= 1150
