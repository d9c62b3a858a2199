// Command render prints a Helm 3 chart's manifests the way `helm template` does, for checking
// the charts where no helm binary exists. It uses the libraries Helm itself renders with: Go's
// text/template, sprig's TxtFuncMap (without env and expandenv, which Helm removes) and
// sigs.k8s.io/yaml, plus Helm's own template functions the charts use.
//
//	render [--release NAME] [--namespace NS] [--notes] [-f values.yaml]... CHART_DIR
//
// --notes also prints templates/NOTES.txt after the manifests, under a `NOTES:` line, as
// `helm install` shows it.
//
// Not supported, because no chart here needs them: subcharts, --set, .Files, .Capabilities,
// lookup, hooks, schema validation (values.schema.json) and helm's ordering of documents by
// kind (documents come out in template file order).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

// Helm's SplitManifests separator: a line starting with three dashes.
var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*`)

// The marker our required/fail wrap their message in, so the message can be told apart from
// text/template's own error prefix, as Helm does.
const (
	messageStart = "RENDER_MESSAGE_START"
	messageEnd   = "RENDER_MESSAGE_END"
)

var wrappedMessage = regexp.MustCompile(messageStart + `((?s).*)` + messageEnd)

func main() {
	release := flag.String("release", "release-name", "release name (.Release.Name)")
	namespace := flag.String("namespace", "default", "release namespace (.Release.Namespace)")
	notes := flag.Bool("notes", false, "also print NOTES.txt, rendered, after the manifests")
	var overrides valueFiles
	flag.Var(&overrides, "f", "values file merged over the chart's values.yaml (repeatable; later files win)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: render [--release NAME] [--namespace NS] [--notes] [-f values.yaml]... CHART_DIR")
		os.Exit(2)
	}
	out, err := renderChart(flag.Arg(0), *release, *namespace, overrides, *notes)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
	fmt.Print(out)
}

func readYAMLMap(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	values := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &values); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return values, nil
}

// mergeValues merges override into base the way Helm coalesces values: maps merge key by key,
// anything else is replaced, and a null in the override removes the key.
func mergeValues(base, override map[string]interface{}) map[string]interface{} {
	for key, value := range override {
		if value == nil {
			delete(base, key)
			continue
		}
		overrideMap, overrideIsMap := value.(map[string]interface{})
		baseMap, baseIsMap := base[key].(map[string]interface{})
		if overrideIsMap && baseIsMap {
			base[key] = mergeValues(baseMap, overrideMap)
		} else {
			base[key] = value
		}
	}
	return base
}

func renderChart(chartDir, release, namespace string, overrides []string, withNotes bool) (string, error) {
	chartMeta, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	chartName, _ := chartMeta["name"].(string)
	if chartName == "" {
		return "", errors.New("Chart.yaml: name is required")
	}
	values, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", err
	}
	for _, file := range overrides {
		override, err := readYAMLMap(file)
		if err != nil {
			return "", err
		}
		values = mergeValues(values, override)
	}
	top := map[string]interface{}{
		"Values":  values,
		"Release": map[string]interface{}{"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
		// Helm exposes Chart.yaml's fields with their Go names.
		"Chart": map[string]interface{}{
			"Name": chartName, "Version": chartMeta["version"], "AppVersion": chartMeta["appVersion"],
			"Description": chartMeta["description"], "Type": chartMeta["type"], "ApiVersion": chartMeta["apiVersion"],
		},
	}

	names, sources, err := readTemplates(chartDir, chartName)
	if err != nil {
		return "", err
	}
	root := template.New("gotpl")
	// As Helm without --strict: a missing key renders as nothing rather than failing.
	root.Option("missingkey=zero")
	root.Funcs(funcMap(root))
	for _, name := range names {
		if _, err := root.New(name).Parse(sources[name]); err != nil {
			return "", fmt.Errorf("parse error in %s: %w", name, err)
		}
	}

	execute := func(name string) (string, error) {
		scope := map[string]interface{}{}
		for k, v := range top {
			scope[k] = v
		}
		scope["Template"] = map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"}
		var buf strings.Builder
		if err := root.ExecuteTemplate(&buf, name, scope); err != nil {
			return "", executionError(name, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	var out strings.Builder
	notesName := chartName + "/templates/NOTES.txt"
	for _, name := range names {
		// Partials only define; NOTES.txt is printed by install, not by `helm template`.
		if strings.HasPrefix(filepath.Base(name), "_") || name == notesName {
			continue
		}
		rendered, err := execute(name)
		if err != nil {
			return "", err
		}
		for _, document := range documentSeparator.Split(strings.TrimLeft(rendered, " \t\r\n"), -1) {
			if strings.TrimSpace(document) == "" {
				continue
			}
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", name, strings.TrimLeft(document, " \t\r\n"))
		}
	}
	if _, hasNotes := sources[notesName]; withNotes && hasNotes {
		notes, err := execute(notesName)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&out, "NOTES:\n%s\n", strings.TrimSpace(notes))
	}
	return out.String(), nil
}

// readTemplates returns every file under templates/ by its Helm name, <chart>/templates/<path>, sorted.
func readTemplates(chartDir, chartName string) ([]string, map[string]string, error) {
	templatesDir := filepath.Join(chartDir, "templates")
	sources := map[string]string{}
	err := filepath.WalkDir(templatesDir, func(file string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		rel, err := filepath.Rel(templatesDir, file)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		sources[chartName+"/templates/"+filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(sources))
	for name := range sources {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, sources, nil
}

// executionError words a failed render as Helm does: the location, then required's or fail's
// own message when one of them stopped it.
func executionError(name string, err error) error {
	var execErr template.ExecError
	if !errors.As(err, &execErr) {
		return fmt.Errorf("execution error in (%s): %w", name, err)
	}
	parts := strings.SplitN(err.Error(), ": ", 3)
	if len(parts) == 3 {
		if message := wrappedMessage.FindStringSubmatch(parts[2]); message != nil {
			return fmt.Errorf("execution error at (%s): %s", parts[1], message[1])
		}
	}
	return err
}

func funcMap(root *template.Template) template.FuncMap {
	functions := sprig.TxtFuncMap()
	// Helm removes these: a chart must not read the environment of whoever renders it.
	delete(functions, "env")
	delete(functions, "expandenv")

	functions["toYaml"] = func(v interface{}) string {
		data, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(data), "\n")
	}
	functions["fromYaml"] = func(text string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(text), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	functions["fromYamlArray"] = func(text string) []interface{} {
		list := []interface{}{}
		if err := yaml.Unmarshal([]byte(text), &list); err != nil {
			list = []interface{}{err.Error()}
		}
		return list
	}
	functions["toJson"] = func(v interface{}) string {
		data, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(data)
	}
	functions["required"] = func(message string, value interface{}) (interface{}, error) {
		if text, isString := value.(string); value == nil || (isString && text == "") {
			return value, errors.New(messageStart + message + messageEnd)
		}
		return value, nil
	}
	functions["fail"] = func(message string) (string, error) {
		return "", errors.New(messageStart + message + messageEnd)
	}
	functions["include"] = func(name string, data interface{}) (string, error) {
		var buf strings.Builder
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	functions["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := root.Clone()
		if err != nil {
			return "", err
		}
		// Clone drops the missingkey option (golang/go#43022); Helm sets it again too.
		clone.Option("missingkey=zero")
		parsed, err := clone.New(root.Name()).Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf strings.Builder
		if err := parsed.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	return functions
}
