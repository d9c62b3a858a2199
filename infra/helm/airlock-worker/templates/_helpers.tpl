{{/* The chart's name, as it appears in resource names and labels. */}}
{{- define "airlock-worker.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
`<release>-<chart>` (just the release when it already contains the chart's name). Kept to 40
characters so that `<fullname>-<pool>` stays within the 52 a StatefulSet's name may have.
*/}}
{{- define "airlock-worker.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "airlock-worker.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "airlock-worker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "airlock-worker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "airlock-worker.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "airlock-worker.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: worker
{{- end -}}

{{- define "airlock-worker.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "airlock-worker.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "airlock-worker.image" -}}
{{- printf "%s%s:%s" .Values.image.registry .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
A pool, checked, with poolDefaults filled in (a pool's own value replaces the default whole).
Called with (dict "root" $ "pool" $pool); returns the pool as YAML, read back with fromYaml.
*/}}
{{- define "airlock-worker.pool" -}}
{{- $root := .root -}}
{{- $pool := .pool -}}
{{- $name := required "pools[].name is required (a DNS label, e.g. gpu)" $pool.name -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $name) -}}
{{- fail (printf "pools[].name %q: expected a DNS label (lower-case letters, digits and '-')" $name) -}}
{{- end -}}
{{- $defaults := $root.Values.poolDefaults -}}
{{- $autoscaling := $pool.autoscaling | default $defaults.autoscaling -}}
{{- $min := required (printf "pools[%s].autoscaling.minReplicas is required" $name) $autoscaling.minReplicas -}}
{{- $max := required (printf "pools[%s].autoscaling.maxReplicas is required" $name) $autoscaling.maxReplicas -}}
{{- if or (lt (int $min) 1) (lt (int $max) (int $min)) -}}
{{- fail (printf "pools[%s].autoscaling: expected 1 <= minReplicas <= maxReplicas" $name) -}}
{{- end -}}
{{- if not (or $autoscaling.targetCPUUtilizationPercentage $autoscaling.targetMemoryUtilizationPercentage) -}}
{{- fail (printf "pools[%s].autoscaling: expected targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage" $name) -}}
{{- end -}}
{{- $resources := required (printf "pools[%s].resources (or poolDefaults.resources) is required" $name) ($pool.resources | default $defaults.resources) -}}
{{- $full := printf "%s-%s" (include "airlock-worker.fullname" $root) $name -}}
{{- if gt (len $full) 52 -}}
{{- fail (printf "pool resource name %q is longer than the 52 characters a StatefulSet's name may have: shorten the pool name or set fullnameOverride" $full) -}}
{{- end -}}
name: {{ $name }}
fullname: {{ $full }}
enrollmentSecret: {{ printf $root.Values.enrollment.secretNameTemplate $full }}
autoscaling:
  {{- toYaml $autoscaling | nindent 2 }}
resources:
  {{- toYaml $resources | nindent 2 }}
nodeSelector:
  {{- toYaml ($pool.nodeSelector | default $defaults.nodeSelector | default dict) | nindent 2 }}
tolerations:
  {{- toYaml ($pool.tolerations | default $defaults.tolerations | default list) | nindent 2 }}
affinity:
  {{- toYaml ($pool.affinity | default $defaults.affinity | default dict) | nindent 2 }}
config:
  {{- toYaml ($pool.config | default dict) | nindent 2 }}
{{- end -}}

{{/* Labels selecting one pool's pods. Called with (dict "root" $ "pool" $pool). */}}
{{- define "airlock-worker.poolSelectorLabels" -}}
{{ include "airlock-worker.selectorLabels" .root }}
airlock.dev/pool: {{ .pool.name }}
{{- end -}}

{{/* Where the chart mounts things; the worker's config names files by these paths. */}}
{{- define "airlock-worker.paths" -}}
config: /etc/airlock/worker.yml
ca: /etc/airlock/ca
secretFiles: /etc/airlock/secrets
kek: /etc/airlock/kek
enrollment: /etc/airlock/enrollment
stateDir: /var/lib/airlock/worker/state
workspaceDir: /var/lib/airlock/worker/workspace
{{- end -}}

{{/*
The worker's YAML config for one pool: `config` with the pool's config merged over it, plus the
keys the chart owns. Called with (dict "root" $ "pool" $pool) where $pool came from
airlock-worker.pool.
*/}}
{{- define "airlock-worker.config" -}}
{{- $root := .root -}}
{{- $pool := .pool -}}
{{- $values := $root.Values -}}
{{- $paths := include "airlock-worker.paths" . | fromYaml -}}
{{- range $owned := list "controlPlane" "stateDir" "workspaceDir" "health" -}}
{{- if hasKey $values.config $owned -}}
{{- fail (printf "config.%s is set by the chart (see values.yaml): remove it from config" $owned) -}}
{{- end -}}
{{- if hasKey $pool.config $owned -}}
{{- fail (printf "pools[%s].config.%s is set by the chart (see values.yaml): remove it" $pool.name $owned) -}}
{{- end -}}
{{- end -}}
{{- $config := mergeOverwrite (deepCopy $values.config) (deepCopy $pool.config) -}}
{{- $cp := $values.controlPlane -}}
{{- $controlPlane := dict "address" (required "controlPlane.address is required (host:port of the control plane's gRPC gateway)" $cp.address) -}}
{{- $tls := dict "caFile" (printf "%s/%s" $paths.ca $cp.ca.key) -}}
{{- if $cp.serverName -}}{{- $_ := set $tls "serverName" $cp.serverName -}}{{- end -}}
{{- $_ := set $controlPlane "tls" $tls -}}
{{- if $cp.proxy -}}
{{- $_ := set $controlPlane "proxy" $cp.proxy -}}
{{- if $cp.proxyAuth.existingSecret -}}{{- $_ := set $controlPlane "proxyAuthEnv" "AIRLOCK_CONTROL_PLANE_PROXY_AUTH" -}}{{- end -}}
{{- end -}}
{{- $_ := set $controlPlane "trustedSigningKeys" ($cp.trustedSigningKeys | default list) -}}
{{- $_ := set $config "controlPlane" $controlPlane -}}
{{- $_ := set $config "stateDir" $paths.stateDir -}}
{{- $_ := set $config "workspaceDir" $paths.workspaceDir -}}
{{- $_ := set $config "health" (dict "host" "0.0.0.0" "port" (int $values.health.port)) -}}
{{- if $values.kek.existingSecret -}}
{{- $secrets := $config.secrets | default dict -}}
{{- if or (hasKey $secrets "kekFile") (hasKey $secrets "kekEnv") -}}
{{- fail "config.secrets.kekFile/kekEnv: set by the chart when kek.existingSecret is set; remove them" -}}
{{- end -}}
{{- $_ := set $secrets "kekFile" (printf "%s/%s" $paths.kek $values.kek.key) -}}
{{- if $values.kek.previousKeys -}}
{{- $previous := list -}}
{{- range $values.kek.previousKeys -}}{{- $previous = append $previous (printf "%s/%s" $paths.kek .) -}}{{- end -}}
{{- $_ := set $secrets "previousKekFiles" $previous -}}
{{- end -}}
{{- $_ := set $config "secrets" $secrets -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* The pod's security context for every container: PodSecurity `restricted`. */}}
{{- define "airlock-worker.containerSecurityContext" -}}
{{- $context := .Values.containerSecurityContext -}}
{{- if not (and $context.runAsNonRoot (not $context.allowPrivilegeEscalation) $context.readOnlyRootFilesystem) -}}
{{- fail "containerSecurityContext: runAsNonRoot and readOnlyRootFilesystem must be true and allowPrivilegeEscalation false (PodSecurity restricted)" -}}
{{- end -}}
{{- toYaml $context -}}
{{- end -}}

{{/*
Egress rules for one group of destinations, as a YAML list: each entry is {cidr, except?, ports}
or {namespaceSelector?, podSelector?, ports}. Called with (dict "group" name "entries" list).
*/}}
{{- define "airlock-worker.egressRules" -}}
{{- $rules := list -}}
{{- range $entry := .entries -}}
{{- $peer := dict -}}
{{- if $entry.cidr -}}
{{- $block := dict "cidr" $entry.cidr -}}
{{- with $entry.except -}}{{- $_ := set $block "except" . -}}{{- end -}}
{{- $_ := set $peer "ipBlock" $block -}}
{{- else if or $entry.namespaceSelector $entry.podSelector -}}
{{- with $entry.namespaceSelector -}}{{- $_ := set $peer "namespaceSelector" (dict "matchLabels" .) -}}{{- end -}}
{{- with $entry.podSelector -}}{{- $_ := set $peer "podSelector" (dict "matchLabels" .) -}}{{- end -}}
{{- else -}}
{{- fail (printf "networkPolicy.egress.%s: each entry needs a cidr, or a namespaceSelector/podSelector" $.group) -}}
{{- end -}}
{{- $ports := list -}}
{{- range $port := required (printf "networkPolicy.egress.%s: each entry needs ports" $.group) $entry.ports -}}
{{- $ports = append $ports (dict "protocol" "TCP" "port" (int $port)) -}}
{{- end -}}
{{- $rules = append $rules (dict "to" (list $peer) "ports" $ports) -}}
{{- end -}}
{{- toYaml $rules -}}
{{- end -}}

{{/* Environment variables from Secrets (secretEnv and the proxy's credentials), as a YAML list; empty when none. */}}
{{- define "airlock-worker.secretEnv" -}}
{{- $env := list -}}
{{- range .Values.secretEnv -}}
{{- $ref := dict "name" (required "secretEnv[].secretName is required" .secretName) "key" (required "secretEnv[].key is required" .key) -}}
{{- $env = append $env (dict "name" (required "secretEnv[].name is required" .name) "valueFrom" (dict "secretKeyRef" $ref)) -}}
{{- end -}}
{{- if and .Values.controlPlane.proxy .Values.controlPlane.proxyAuth.existingSecret -}}
{{- $ref := dict "name" .Values.controlPlane.proxyAuth.existingSecret "key" .Values.controlPlane.proxyAuth.key -}}
{{- $env = append $env (dict "name" "AIRLOCK_CONTROL_PLANE_PROXY_AUTH" "valueFrom" (dict "secretKeyRef" $ref)) -}}
{{- end -}}
{{- if $env -}}{{- toYaml $env -}}{{- end -}}
{{- end -}}

{{/* The mounts the init container and the worker share. */}}
{{- define "airlock-worker.volumeMounts" -}}
{{- $paths := include "airlock-worker.paths" . | fromYaml -}}
- name: config
  mountPath: {{ $paths.config }}
  subPath: worker.yml
  readOnly: true
- name: ca
  mountPath: {{ $paths.ca }}
  readOnly: true
{{- if or .Values.secretFiles.existingSecret .Values.secretFiles.files }}
- name: secret-files
  mountPath: {{ $paths.secretFiles }}
  readOnly: true
{{- end }}
{{- if .Values.kek.existingSecret }}
- name: kek
  mountPath: {{ $paths.kek }}
  readOnly: true
{{- end }}
- name: state
  mountPath: {{ $paths.stateDir }}
- name: workspace
  mountPath: {{ $paths.workspaceDir }}
- name: tmp
  mountPath: /tmp
{{- end -}}
