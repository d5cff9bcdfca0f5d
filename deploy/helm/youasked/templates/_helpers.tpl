{{/* Names and labels. */}}
{{- define "youasked.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "youasked.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "youasked.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "youasked.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The Secret holding what the chart was given (database URL, ingest secret). */}}
{{- define "youasked.secretName" -}}
{{ include "youasked.fullname" . }}-secrets
{{- end -}}

{{/* Where the pods keep state (the worker's tables) and downloads. */}}
{{- define "youasked.stateDir" -}}/var/lib/youasked{{- end -}}
{{- define "youasked.cacheDir" -}}/var/cache/youasked{{- end -}}

{{/* The settings every process reads, as YOUASKED_* pairs: the chart's own, then `config`. */}}
{{- define "youasked.settings" -}}
{{- $settings := dict
  "kafka_bootstrap" (required "kafka.bootstrap (host:port of the Kafka cluster) is required" .Values.kafka.bootstrap)
  "state_dir" (include "youasked.stateDir" .)
  "cache_dir" (include "youasked.cacheDir" .)
  "api_host" "0.0.0.0"
  "api_port" .Values.api.port
  "worker_metrics_host" "0.0.0.0"
  "worker_metrics_port" .Values.worker.metricsPort
  "table_store" .Values.worker.tableStore
-}}
{{- range $name, $value := .Values.config }}
{{- if hasKey $settings $name }}
{{- fail (printf "config.%s is set by the chart itself; use its own value instead" $name) }}
{{- end }}
{{- if or (hasPrefix "YOUASKED_" $name) (ne $name (lower $name)) }}
{{- fail (printf "config.%s: name a setting by its field name in lower case (e.g. topic_partitions)" $name) }}
{{- end }}
{{- $_ := set $settings $name $value }}
{{- end }}
{{- range $name := keys $settings | sortAlpha }}
{{- $value := get $settings $name }}
{{- /* values files give numbers as float64: a whole one is written without an exponent */}}
{{- if or (kindIs "map" $value) (kindIs "slice" $value) }}{{ $value = toJson $value }}
{{- else if and (kindIs "float64" $value) (eq $value (floor $value)) }}{{ $value = printf "%.0f" $value }}
{{- end }}
YOUASKED_{{ upper $name }}: {{ toString $value | quote }}
{{- end }}
{{- end -}}

{{/* The secret settings, read from the chart's Secret or from the ones named. */}}
{{- define "youasked.databaseEnv" -}}
{{- if not (or .Values.database.url .Values.database.existingSecret) }}
{{- fail "database.url or database.existingSecret is required: the read model lives in PostgreSQL" }}
{{- end }}
- name: YOUASKED_DATABASE_URL
  valueFrom:
    secretKeyRef:
      {{- if .Values.database.url }}
      name: {{ include "youasked.secretName" . }}
      key: database-url
      {{- else }}
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.existingSecretKey }}
      {{- end }}
{{- end -}}

{{- define "youasked.ingestEnv" -}}
{{- if or .Values.ingest.secret .Values.ingest.existingSecret }}
- name: YOUASKED_INGEST_SECRET
  valueFrom:
    secretKeyRef:
      {{- if .Values.ingest.secret }}
      name: {{ include "youasked.secretName" . }}
      key: ingest-secret
      {{- else }}
      name: {{ .Values.ingest.existingSecret }}
      key: {{ .Values.ingest.existingSecretKey }}
      {{- end }}
{{- end }}
{{- end -}}

{{/* Annotations that restart the pods when their settings change. */}}
{{- define "youasked.checksums" -}}
checksum/config: {{ include "youasked.settings" . | sha256sum }}
checksum/secrets: {{ printf "%s|%s" .Values.database.url .Values.ingest.secret | sha256sum }}
{{- end -}}

{{- define "youasked.scrape" -}}
{{- if .root.Values.metrics.annotations -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end -}}
{{- end -}}

{{/* Settings and secrets become pre-install/pre-upgrade hooks with the migration Job, which
     needs them before the release's other objects exist. */}}
{{- define "youasked.earlyHook" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: "-10"
helm.sh/hook-delete-policy: before-hook-creation
{{- end -}}
