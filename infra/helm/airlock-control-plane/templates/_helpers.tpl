{{- define "airlock-control-plane.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* `<release>-<chart>` (just the release when it already contains the chart's name), kept short enough for the `-metrics` suffix. */}}
{{- define "airlock-control-plane.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "airlock-control-plane.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 55 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 55 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "airlock-control-plane.selectorLabels" -}}
app.kubernetes.io/name: {{ include "airlock-control-plane.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "airlock-control-plane.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "airlock-control-plane.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: control-plane
{{- end -}}

{{- define "airlock-control-plane.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "airlock-control-plane.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "airlock-control-plane.image" -}}
{{- printf "%s%s:%s" .Values.image.registry .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Where Secrets are mounted; the environment names the files by these paths. */}}
{{- define "airlock-control-plane.paths" -}}
kek: /etc/airlock/kek
grpcTls: /etc/airlock/grpc-tls
clientCa: /etc/airlock/grpc-client-ca
oidc: /etc/airlock/oidc
data: /var/lib/airlock/control-plane
{{- end -}}

{{/* Whether the gateway serves TLS itself. */}}
{{- define "airlock-control-plane.grpcTls" -}}
{{- if .Values.grpc.tls.existingSecret -}}true{{- end -}}
{{- end -}}

{{/* The container's environment, as a YAML list. */}}
{{- define "airlock-control-plane.env" -}}
{{- $paths := include "airlock-control-plane.paths" . | fromYaml -}}
{{- $values := .Values -}}
{{- $env := list -}}
{{- $databaseRef := dict "name" (required "database.existingSecret is required: the Secret holding DATABASE_URL (postgresql://…)" $values.database.existingSecret) "key" (required "database.key is required" $values.database.key) -}}
{{- $env = append $env (dict "name" "DATABASE_URL" "valueFrom" (dict "secretKeyRef" $databaseRef)) -}}
{{- if $values.nats.existingSecret -}}
{{- $natsRef := dict "name" $values.nats.existingSecret "key" (required "nats.key is required" $values.nats.key) -}}
{{- $env = append $env (dict "name" "AIRLOCK_NATS_URL" "valueFrom" (dict "secretKeyRef" $natsRef)) -}}
{{- else if gt (int $values.replicaCount) 1 -}}
{{- fail "nats.existingSecret is required with more than one replica: replicas share queued jobs and events through NATS JetStream (AIRLOCK_NATS_URL)" -}}
{{- end -}}
{{- $plain := dict
  "AIRLOCK_HTTP_HOST" "0.0.0.0" "AIRLOCK_HTTP_PORT" (toString $values.service.http.port)
  "AIRLOCK_GRPC_HOST" "0.0.0.0" "AIRLOCK_GRPC_PORT" (toString $values.service.grpc.port)
  "AIRLOCK_METRICS_HOST" "0.0.0.0" "AIRLOCK_METRICS_PORT" (toString $values.service.metrics.port)
  "AIRLOCK_DATA_DIR" $paths.data
-}}
{{- with $values.publicUrl -}}{{- $_ := set $plain "AIRLOCK_PUBLIC_URL" . -}}{{- end -}}
{{- if $values.kek.existingSecret -}}
{{- $_ := set $plain "AIRLOCK_KEK_FILE" (printf "%s/%s" $paths.kek $values.kek.key) -}}
{{- if $values.kek.previousKeys -}}
{{- $previous := list -}}
{{- range $values.kek.previousKeys -}}{{- $previous = append $previous (printf "%s/%s" $paths.kek .) -}}{{- end -}}
{{- $_ := set $plain "AIRLOCK_KEK_PREVIOUS_FILES" (join "," $previous) -}}
{{- end -}}
{{- end -}}
{{- if $values.grpc.tls.existingSecret -}}
{{- $_ := set $plain "AIRLOCK_GRPC_TLS_CERT_FILE" (printf "%s/tls.crt" $paths.grpcTls) -}}
{{- $_ := set $plain "AIRLOCK_GRPC_TLS_KEY_FILE" (printf "%s/tls.key" $paths.grpcTls) -}}
{{- end -}}
{{- if $values.grpc.clientCa.existingSecret -}}
{{- if not $values.grpc.tls.existingSecret -}}
{{- fail "grpc.clientCa needs grpc.tls.existingSecret: mutual TLS runs on a gateway that serves TLS" -}}
{{- end -}}
{{- $_ := set $plain "AIRLOCK_GRPC_CLIENT_CA_CERT_FILE" (printf "%s/ca.crt" $paths.clientCa) -}}
{{- $_ := set $plain "AIRLOCK_GRPC_CLIENT_CA_KEY_FILE" (printf "%s/ca.key" $paths.clientCa) -}}
{{- $_ := set $plain "AIRLOCK_GRPC_CLIENT_CERTS" $values.grpc.clientCa.mode -}}
{{- end -}}
{{- if or $values.oidc.issuer $values.oidc.clientId $values.oidc.clientSecret.existingSecret -}}
{{- $_ := set $plain "AIRLOCK_OIDC_ISSUER" (required "oidc.issuer is required for single sign-on" $values.oidc.issuer) -}}
{{- $_ := set $plain "AIRLOCK_OIDC_CLIENT_ID" (required "oidc.clientId is required for single sign-on" $values.oidc.clientId) -}}
{{- $_ := required "oidc.clientSecret.existingSecret is required for single sign-on" $values.oidc.clientSecret.existingSecret -}}
{{- $_ := set $plain "AIRLOCK_OIDC_CLIENT_SECRET_FILE" (printf "%s/%s" $paths.oidc $values.oidc.clientSecret.key) -}}
{{- with $values.oidc.displayName -}}{{- $_ := set $plain "AIRLOCK_OIDC_DISPLAY_NAME" . -}}{{- end -}}
{{- with $values.oidc.newUserRole -}}{{- $_ := set $plain "AIRLOCK_OIDC_NEW_USER_ROLE" . -}}{{- end -}}
{{- end -}}
{{- range $name, $value := $values.env -}}
{{- if hasKey $plain $name -}}
{{- fail (printf "env.%s is set by the chart from other values (see values.yaml)" $name) -}}
{{- end -}}
{{- if or (eq $name "DATABASE_URL") (eq $name "AIRLOCK_NATS_URL") (eq $name "AIRLOCK_KEK") -}}
{{- fail (printf "env.%s: a secret; give it through its Secret (database, nats, kek), never as a plain value" $name) -}}
{{- end -}}
{{- $_ := set $plain $name (toString $value) -}}
{{- end -}}
{{- range $name := keys $plain | sortAlpha -}}
{{- $env = append $env (dict "name" $name "value" (index $plain $name)) -}}
{{- end -}}
{{- $env = concat $env ($values.extraEnv | default list) -}}
{{- toYaml $env -}}
{{- end -}}
