package main

import (
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// rules are the conventions every brewmesh workload keeps, and the references between the
// objects of one render (a Service selecting no pods or an HPA naming a missing Deployment
// is valid YAML and still a broken deployment). issued names the Secrets that rendered
// cert-manager Certificates make. It returns the problems and the Secrets that the render
// needs without defining them (they must exist in the cluster).
func rules(objects []runtime.Object, issued map[string]bool) (problems []string, external []string) {
	configMaps, secrets := map[string]bool{}, issued
	deployments := map[string]*appsv1.Deployment{}
	wantedSecrets := map[string]bool{}
	for _, o := range objects {
		switch v := o.(type) {
		case *corev1.ConfigMap:
			configMaps[v.Name] = true
		case *corev1.Secret:
			secrets[v.Name] = true
		case *appsv1.Deployment:
			deployments[v.Name] = v
		}
	}
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	checkPod := func(what string, spec *corev1.PodSpec, probes bool) {
		if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			bad("%s: pod securityContext.runAsNonRoot must be true", what)
		}
		for _, c := range spec.Containers {
			cw := fmt.Sprintf("%s container %s", what, c.Name)
			if sc := c.SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				bad("%s: securityContext needs allowPrivilegeEscalation: false and readOnlyRootFilesystem: true", cw)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				bad("%s: needs cpu and memory requests and a memory limit", cw)
			}
			if probes {
				ports := map[int32]bool{}
				for _, p := range c.Ports {
					ports[p.ContainerPort] = true
				}
				for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
					if p == nil {
						if name != "startup" {
							bad("%s: no %s probe", cw, name)
						}
						continue
					}
					handlers := 0
					if p.GRPC != nil {
						handlers++
						if !ports[p.GRPC.Port] {
							bad("%s: %s probe's gRPC port %d is not a container port", cw, name, p.GRPC.Port)
						}
					}
					if p.Exec != nil {
						handlers++
					}
					if p.HTTPGet != nil {
						handlers++
					}
					if p.TCPSocket != nil {
						handlers++
					}
					if handlers != 1 {
						bad("%s: %s probe must have exactly one handler, has %d", cw, name, handlers)
					}
				}
			}
			for _, from := range c.EnvFrom {
				if r := from.ConfigMapRef; r != nil && !configMaps[r.Name] && (r.Optional == nil || !*r.Optional) {
					bad("%s: envFrom ConfigMap %q is not in the render", cw, r.Name)
				}
				if r := from.SecretRef; r != nil && !secrets[r.Name] && (r.Optional == nil || !*r.Optional) {
					wantedSecrets[r.Name] = true
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil && !configMaps[e.ValueFrom.ConfigMapKeyRef.Name] {
					bad("%s: env %s names ConfigMap %q, not in the render", cw, e.Name, e.ValueFrom.ConfigMapKeyRef.Name)
				}
			}
			mounted := map[string]bool{}
			for _, m := range c.VolumeMounts {
				mounted[m.Name] = true
			}
			for name := range mounted {
				found := false
				for _, v := range spec.Volumes {
					found = found || v.Name == name
				}
				if !found {
					bad("%s: volumeMount %q has no volume", cw, name)
				}
			}
		}
		for _, v := range spec.Volumes {
			if v.Secret != nil && !secrets[v.Secret.SecretName] {
				wantedSecrets[v.Secret.SecretName] = true
			}
			if v.ConfigMap != nil && !configMaps[v.ConfigMap.Name] {
				bad("%s: volume %s names ConfigMap %q, not in the render", what, v.Name, v.ConfigMap.Name)
			}
		}
	}

	podsMatching := func(selector labels.Selector) []string {
		var names []string
		for _, d := range deployments {
			if selector.Matches(labels.Set(d.Spec.Template.Labels)) {
				names = append(names, d.Name)
			}
		}
		return names
	}

	for _, o := range objects {
		switch v := o.(type) {
		case *appsv1.Deployment:
			what := "Deployment " + v.Name
			sel, err := metaSelector(v.Spec.Selector)
			if err != nil || !sel.Matches(labels.Set(v.Spec.Template.Labels)) {
				bad("%s: selector does not match the pod template's labels", what)
			}
			checkPod(what, &v.Spec.Template.Spec, true)
		case *batchv1.Job:
			checkPod("Job "+v.Name, &v.Spec.Template.Spec, false)
		case *corev1.Service:
			if len(v.Spec.Selector) == 0 {
				continue
			}
			matched := podsMatching(labels.SelectorFromSet(v.Spec.Selector))
			if len(matched) == 0 {
				bad("Service %s: selector %v matches no Deployment's pods", v.Name, v.Spec.Selector)
				continue
			}
			for _, p := range v.Spec.Ports {
				if p.TargetPort.StrVal == "" {
					continue
				}
				for _, name := range matched {
					found := false
					for _, c := range deployments[name].Spec.Template.Spec.Containers {
						for _, cp := range c.Ports {
							found = found || cp.Name == p.TargetPort.StrVal
						}
					}
					if !found {
						bad("Service %s: targetPort %q is not a port of Deployment %s", v.Name, p.TargetPort.StrVal, name)
					}
				}
			}
		case *policyv1.PodDisruptionBudget:
			sel, err := metaSelector(v.Spec.Selector)
			if err != nil || len(podsMatching(sel)) == 0 {
				bad("PodDisruptionBudget %s: selector matches no Deployment's pods", v.Name)
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			ref := v.Spec.ScaleTargetRef
			if ref.Kind != "Deployment" || deployments[ref.Name] == nil {
				bad("HorizontalPodAutoscaler %s: scale target %s %s is not in the render", v.Name, ref.Kind, ref.Name)
			} else if d := deployments[ref.Name]; v.Spec.MinReplicas != nil && d.Spec.Replicas != nil && *v.Spec.MinReplicas > *d.Spec.Replicas {
				bad("HorizontalPodAutoscaler %s: minReplicas %d above the Deployment's %d replicas", v.Name, *v.Spec.MinReplicas, *d.Spec.Replicas)
			}
		}
	}
	for name := range wantedSecrets {
		external = append(external, name)
	}
	sort.Strings(external)
	sort.Strings(problems)
	return problems, external
}
