{{/* Base name: the service name (user-service, order-service). */}}
{{- define "microservice.name" -}}
{{- default .Release.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name of every resource: the release name, or <release>-<name> when the release name lacks it. */}}
{{- define "microservice.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "microservice.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "microservice.tag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{/* registry/owner/name:tag[@digest] */}}
{{- define "microservice.image" -}}
{{- $i := .Values.image -}}
{{- $ref := printf "%s/%s/%s:%s" $i.registry $i.owner (default (include "microservice.name" .) $i.name) (include "microservice.tag" .) -}}
{{- if $i.digest -}}{{- printf "%s@%s" $ref $i.digest -}}{{- else -}}{{- $ref -}}{{- end -}}
{{- end -}}

{{/* Labels that select this release's server pods (Deployment, Service, PDB, HPA target). */}}
{{- define "microservice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "microservice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{/* Labels of every pod of this release, whatever its component (server, migrate, smoke-test, wait). */}}
{{- define "microservice.releaseLabels" -}}
app.kubernetes.io/name: {{ include "microservice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Common labels; `component` is passed as (dict "ctx" $ "component" "server"). */}}
{{- define "microservice.labels" -}}
{{- $ := .ctx -}}
{{ include "microservice.releaseLabels" $ }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/version: {{ include "microservice.tag" $ | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/part-of: microservices
app.kubernetes.io/managed-by: {{ $.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $.Chart.Name $.Chart.Version }}
{{- if ne $.Values.environment "none" }}
environment: {{ $.Values.environment }}
{{- end }}
{{- end -}}

{{/* Where DATABASE_URL comes from: (dict "name" .. "key" ..), or empty for the embedded store. */}}
{{- define "microservice.databaseSecret" -}}
{{- $pg := .Values.postgresql -}}
{{- if and $pg.cnpg.enabled $pg.existingSecret.name -}}
{{- fail "postgresql: set either existingSecret.name or cnpg.enabled, not both" -}}
{{- end -}}
{{- if $pg.cnpg.enabled -}}
{{- dict "name" (printf "%s-app" (include "microservice.cnpgCluster" .)) "key" "uri" | toJson -}}
{{- else if $pg.existingSecret.name -}}
{{- dict "name" $pg.existingSecret.name "key" $pg.existingSecret.key | toJson -}}
{{- end -}}
{{- end -}}

{{- define "microservice.hasDatabase" -}}
{{- if include "microservice.databaseSecret" . -}}true{{- end -}}
{{- end -}}

{{- define "microservice.cnpgCluster" -}}
{{- printf "%s-db" (include "microservice.fullname" .) | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{/* Replicas actually run: 1 with the embedded store (its data lives in one process). */}}
{{- define "microservice.replicas" -}}
{{- if include "microservice.hasDatabase" . -}}{{ .Values.replicaCount }}{{- else -}}1{{- end -}}
{{- end -}}

{{/* DB_MIGRATE_ON_START: `auto` is false only when a pre-install/pre-upgrade Job migrates first. */}}
{{- define "microservice.migrateOnStart" -}}
{{- $m := .Values.postgresql.migrations -}}
{{- if eq $m.onStart "enabled" -}}true
{{- else if eq $m.onStart "disabled" -}}false
{{- else if and $m.job.enabled (not .Values.postgresql.cnpg.enabled) -}}false
{{- else -}}true
{{- end -}}
{{- end -}}

{{/* In-cluster URL of user-service (order-service only). */}}
{{- define "microservice.userServiceUrl" -}}
{{- $u := .Values.userService -}}
{{- default (printf "http://%s.%s.svc.cluster.local:%v" $u.serviceName .Release.Namespace $u.port) $u.url -}}
{{- end -}}

{{/*
FAULT_DELAY_MS: a whole number of ms, or a "min-max" range. The schema checks the shape; a range's order and
upper bound it cannot compare, so they are checked here (the service would refuse to start on them).
*/}}
{{- define "microservice.faultDelayMs" -}}
{{- $d := .Values.faults.delayMs -}}
{{- if kindIs "string" $d -}}
{{- if not (regexMatch "^[0-9]{1,6}-[0-9]{1,6}$" $d) -}}
{{- fail (printf "faults.delayMs %q must be ms (1000) or a range of ms (200-800)" $d) -}}
{{- end -}}
{{- $bounds := splitList "-" $d -}}
{{- $min := atoi (first $bounds) -}}
{{- $max := atoi (last $bounds) -}}
{{- if or (gt $min $max) (gt $max 120000) -}}
{{- fail (printf "faults.delayMs %q must be low-high and at most 120000 ms" $d) -}}
{{- end -}}
{{- printf "%d-%d" $min $max -}}
{{- else -}}
{{- $d | int64 -}}
{{- end -}}
{{- end -}}

{{/*
FAULT_ERROR_RATE as a plain decimal: Go prints small floats in exponent form (1e-05), which the service's
decimal parser refuses. Six decimal places, trailing zeros dropped.
*/}}
{{- define "microservice.faultErrorRate" -}}
{{- regexReplaceAll "\\.?0+$" (printf "%.6f" (float64 .Values.faults.errorRate)) "" -}}
{{- end -}}

{{/* URL of this release's own Service. */}}
{{- define "microservice.selfUrl" -}}
{{- printf "http://%s.%s.svc.cluster.local:%v" (include "microservice.fullname" .) .Release.Namespace .Values.service.port -}}
{{- end -}}

{{/* Seconds the kubelet waits after starting termination: preStop sleep + delay + drain + margin. */}}
{{- define "microservice.terminationGracePeriodSeconds" -}}
{{- $s := .Values.shutdown -}}
{{- $sleep := ternary (int $s.preStopSleep.seconds) 0 $s.preStopSleep.enabled -}}
{{- add $sleep (div (add (int $s.delayMs) (int $s.timeoutMs) 999) 1000) (int $s.graceMarginSeconds) -}}
{{- end -}}

{{/* Pod-level security context shared by every pod of the chart (server, hooks, tests). */}}
{{- define "microservice.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security context shared by every container of the chart. */}}
{{- define "microservice.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The /tmp emptyDir volume (the only writable path). */}}
{{- define "microservice.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- end -}}

{{- define "microservice.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "microservice.imagePullSecrets" -}}
{{- if .Values.imagePullSecrets.enabled -}}
imagePullSecrets:
{{- range .Values.imagePullSecrets.names }}
  - name: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
A pod spec for a one-shot container (migration Job, smoke tests, wait Job) with the chart's security
invariants. Arguments: (dict "ctx" $ "name" "smoke" "args" (list ...) "env" (list of EnvVar dicts)).
*/}}
{{- define "microservice.oneShotPodSpec" -}}
{{- $ := .ctx -}}
restartPolicy: Never
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- include "microservice.podSecurityContext" $ | nindent 2 }}
{{- with include "microservice.imagePullSecrets" $ }}
{{ . }}
{{- end }}
{{- if $.Values.priorityClass.enabled }}
priorityClassName: {{ $.Values.priorityClass.name }}
{{- end }}
containers:
  - name: {{ .name }}
    image: {{ include "microservice.image" $ }}
    imagePullPolicy: {{ $.Values.image.pullPolicy }}
    args:
      {{- toYaml .args | nindent 6 }}
    {{- with .env }}
    env:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    resources:
      {{- toYaml $.Values.resources | nindent 6 }}
    securityContext:
      {{- include "microservice.containerSecurityContext" $ | nindent 6 }}
    volumeMounts:
      {{- include "microservice.tmpMount" $ | nindent 6 }}
volumes:
  {{- include "microservice.tmpVolume" $ | nindent 2 }}
{{- end -}}

{{/* Environment of the smoke test: the Service URLs it calls. */}}
{{- define "microservice.smokeEnv" -}}
{{- if .Values.userService.enabled -}}
{{- list (dict "name" "USER_SERVICE_URL" "value" (include "microservice.userServiceUrl" .)) (dict "name" "ORDER_SERVICE_URL" "value" (include "microservice.selfUrl" .)) (dict "name" "SMOKE_TIMEOUT_MS" "value" (printf "%d" (mul .Values.smokeTest.timeoutSeconds 1000))) | toJson -}}
{{- else -}}
{{- list (dict "name" "USER_SERVICE_URL" "value" (include "microservice.selfUrl" .)) (dict "name" "SMOKE_TIMEOUT_MS" "value" (printf "%d" (mul .Values.smokeTest.timeoutSeconds 1000))) | toJson -}}
{{- end -}}
{{- end -}}

{{- define "microservice.smokeArgs" -}}
{{- /* Blank lines dropped: they would render as whitespace-only lines inside the YAML block. */ -}}
{{- list "--input-type=module" "-e" (.Files.Get "files/smoke.mjs" | replace "\n\n" "\n") | toJson -}}
{{- end -}}
