// k8s-check decodes rendered Kubernetes manifests (a multi-document YAML stream, e.g. the
// output of `kustomize build`) strictly into the real Kubernetes API types: an unknown or
// misspelt field, a duplicate field or a value of the wrong type is an error, as it is for
// `kubectl apply --validate=strict` against a cluster. Kinds outside the built-in API
// groups (cert-manager's Certificate, ...) are listed and left to the schema validator.
// Then the objects are checked against brewmesh's conventions and each other (rules.go).
//
//	go run ./k8s-check < rendered.yaml
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

func main() {
	decoder := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	problems, decoded, skipped := 0, 0, 0
	var objects []runtime.Object
	issued := map[string]bool{}
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "k8s-check: document %d: %v\n", n, err)
			os.Exit(1)
		}
		if len(strings.TrimSpace(string(doc))) == 0 {
			continue
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil || meta.Kind == "" || meta.APIVersion == "" {
			fmt.Fprintf(os.Stderr, "k8s-check: document %d: no apiVersion/kind (%v)\n", n, err)
			problems++
			continue
		}
		what := meta.APIVersion + " " + meta.Kind
		obj, _, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			if runtime.IsNotRegisteredError(err) {
				var cert struct {
					Spec struct {
						SecretName string `json:"secretName"`
					} `json:"spec"`
				}
				if meta.Kind == "Certificate" && yaml.Unmarshal(doc, &cert) == nil && cert.Spec.SecretName != "" {
					issued[cert.Spec.SecretName] = true
				}
				fmt.Printf("k8s-check: document %d: %s is not a built-in kind, left to the schema check\n", n, what)
				skipped++
				continue
			}
			fmt.Fprintf(os.Stderr, "k8s-check: document %d (%s): %v\n", n, what, err)
			problems++
			continue
		}
		objects = append(objects, obj)
		decoded++
	}
	broken, external := rules(objects, issued)
	for _, p := range broken {
		fmt.Fprintf(os.Stderr, "k8s-check: %s\n", p)
	}
	problems += len(broken)
	if len(external) > 0 {
		fmt.Printf("k8s-check: Secrets used but not rendered (create them in the cluster): %s\n", strings.Join(external, ", "))
	}
	if problems > 0 {
		fmt.Fprintf(os.Stderr, "k8s-check: %d problem(s)\n", problems)
		os.Exit(1)
	}
	if decoded == 0 {
		fmt.Fprintln(os.Stderr, "k8s-check: no Kubernetes objects in the input")
		os.Exit(1)
	}
	fmt.Printf("k8s-check: %d objects decoded strictly, %d other kinds\n", decoded, skipped)
}
