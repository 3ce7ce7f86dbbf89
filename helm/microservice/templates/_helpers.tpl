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
{{- if and $pg.externalSecret.enabled (not $pg.existingSecret.name) -}}
{{- fail "postgresql.externalSecret writes the Secret postgresql.existingSecret.name: set that name" -}}
{{- end -}}
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
{{- else if and $m.job.enabled (not .Values.postgresql.cnpg.enabled) (not .Values.postgresql.externalSecret.enabled) -}}false
{{- else -}}true
{{- end -}}
{{- end -}}

{{/* In-cluster URL of user-service (order-service only). */}}
{{- define "microservice.userServiceUrl" -}}
{{- $u := .Values.userService -}}
{{- default (printf "http://%s.%s.svc.cluster.local:%v" $u.serviceName (default .Release.Namespace $u.namespace) $u.port) $u.url -}}
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

{{/*
The restricted Pod Security profile is the floor: securityContext.pod / .container may only tighten it.
Each override is checked as given (Helm's merge would silently drop a `false`), then merged over the
chart's own. Arguments: (dict "what" "pod"|"container" "given" $overrides).
*/}}
{{- define "microservice.checkSecurityOverrides" -}}
{{- $g := .given -}}
{{- $refuse := printf "securityContext.%s would loosen the restricted profile the chart enforces" .what -}}
{{- if and (hasKey $g "runAsNonRoot") (ne (toString $g.runAsNonRoot) "true") -}}{{- fail (printf "%s: runAsNonRoot must stay true" $refuse) -}}{{- end -}}
{{- range $k := list "runAsUser" "runAsGroup" "fsGroup" -}}
{{- if and (hasKey $g $k) (le (int (get $g $k)) 0) -}}{{- fail (printf "%s: %s must stay a non-root id" $refuse $k) -}}{{- end -}}
{{- end -}}
{{- if and (hasKey $g "allowPrivilegeEscalation") (ne (toString $g.allowPrivilegeEscalation) "false") -}}{{- fail (printf "%s: allowPrivilegeEscalation must stay false" $refuse) -}}{{- end -}}
{{- if and (hasKey $g "privileged") (ne (toString $g.privileged) "false") -}}{{- fail (printf "%s: privileged must stay false" $refuse) -}}{{- end -}}
{{- if and (hasKey $g "readOnlyRootFilesystem") (ne (toString $g.readOnlyRootFilesystem) "true") -}}{{- fail (printf "%s: readOnlyRootFilesystem must stay true" $refuse) -}}{{- end -}}
{{- if hasKey $g "capabilities" -}}
{{- if $g.capabilities.add -}}{{- fail (printf "%s: no capability may be added" $refuse) -}}{{- end -}}
{{- if and (hasKey $g.capabilities "drop") (not (has "ALL" $g.capabilities.drop)) -}}{{- fail (printf "%s: capabilities.drop must keep ALL" $refuse) -}}{{- end -}}
{{- end -}}
{{- if hasKey $g "seccompProfile" -}}
{{- if not (has (toString $g.seccompProfile.type) (list "RuntimeDefault" "Localhost")) -}}{{- fail (printf "%s: seccompProfile.type must be RuntimeDefault or Localhost" $refuse) -}}{{- end -}}
{{- end -}}
{{- if and (hasKey $g "procMount") (ne (toString $g.procMount) "Default") -}}{{- fail (printf "%s: procMount must stay Default" $refuse) -}}{{- end -}}
{{- range $k := list "hostUsers" "sysctls" "windowsOptions" -}}
{{- if hasKey $g $k -}}{{- fail (printf "%s: %s is not allowed" $refuse $k) -}}{{- end -}}
{{- end -}}
{{- end -}}

{{/* Pod-level security context shared by every pod of the chart (server, hooks, tests). */}}
{{- define "microservice.podSecurityContext" -}}
{{- $given := .Values.securityContext.pod -}}
{{- include "microservice.checkSecurityOverrides" (dict "what" "pod" "given" $given) -}}
{{- $base := dict "runAsNonRoot" true "runAsUser" 65532 "runAsGroup" 65532 "fsGroup" 65532 "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- include "microservice.indentedYaml" (mustMergeOverwrite $base (deepCopy $given)) -}}
{{- end -}}

{{/* Container-level security context shared by every container of the chart. */}}
{{- define "microservice.containerSecurityContext" -}}
{{- $given := .Values.securityContext.container -}}
{{- include "microservice.checkSecurityOverrides" (dict "what" "container" "given" $given) -}}
{{- $base := dict "runAsNonRoot" true "runAsUser" 65532 "runAsGroup" 65532 "allowPrivilegeEscalation" false "readOnlyRootFilesystem" true "privileged" false "capabilities" (dict "drop" (list "ALL")) "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- include "microservice.indentedYaml" (mustMergeOverwrite $base (deepCopy $given)) -}}
{{- end -}}

{{/* toYaml with sequences indented under their key (yamllint's style); for maps whose lists hold scalars. */}}
{{- define "microservice.indentedYaml" -}}
{{- regexReplaceAll "(?m)^(\\s*)- " (toYaml .) "${1}  - " -}}
{{- end -}}

{{/* Where the database CA is mounted (postgresql.tls); DB_SSL_ROOT_CERT names ca.crt in it. */}}
{{- define "microservice.dbCaDir" -}}/etc/postgresql-ca{{- end -}}

{{/* The CA volume, or nothing. Fails unless exactly one of caFrom.secret / caFrom.configMap is named. */}}
{{- define "microservice.dbCaVolume" -}}
{{- $t := .Values.postgresql.tls -}}
{{- if $t.enabled -}}
{{- if not (include "microservice.hasDatabase" .) -}}
{{- fail "postgresql.tls needs a database (postgresql.existingSecret)" -}}
{{- end -}}
{{- $s := $t.caFrom.secret -}}
{{- $c := $t.caFrom.configMap -}}
{{- if eq (empty $s.name) (empty $c.name) -}}
{{- fail "postgresql.tls: name exactly one of caFrom.secret.name and caFrom.configMap.name" -}}
{{- end -}}
- name: postgresql-ca
{{- if $s.name }}
  secret:
    secretName: {{ $s.name }}
    items:
      - key: {{ $s.key }}
        path: ca.crt
{{- else }}
  configMap:
    name: {{ $c.name }}
    items:
      - key: {{ $c.key }}
        path: ca.crt
{{- end }}
{{- end -}}
{{- end -}}

{{- define "microservice.dbCaMount" -}}
{{- if .Values.postgresql.tls.enabled -}}
- name: postgresql-ca
  mountPath: {{ include "microservice.dbCaDir" . }}
  readOnly: true
{{- end -}}
{{- end -}}

{{/*
Seconds a start-up may spend migrating in the worst case: the retry window, then one more connect and lock
wait, plus 10 s for the migration itself and the listen. The startup probe outlasts it.
*/}}
{{- define "microservice.migrationBudgetSeconds" -}}
{{- $m := .Values.postgresql.migrations -}}
{{- div (add $m.retryMs .Values.postgresql.pool.connectTimeoutMs $m.lockTimeoutMs 10000 999) 1000 -}}
{{- end -}}

{{/* startupProbe.failureThreshold: as configured, raised to cover the migration budget when pods migrate. */}}
{{- define "microservice.startupFailureThreshold" -}}
{{- $p := .Values.probes.startup -}}
{{- $threshold := int $p.failureThreshold -}}
{{- if and (include "microservice.hasDatabase" .) (eq (include "microservice.migrateOnStart" .) "true") -}}
{{- $needed := div (add (include "microservice.migrationBudgetSeconds" . | int) (sub (int $p.periodSeconds) 1)) (int $p.periodSeconds) -}}
{{- $threshold = max $threshold $needed -}}
{{- end -}}
{{- $threshold -}}
{{- end -}}

{{/* Scheduling fields shared by every pod of the chart (server and hooks). */}}
{{- define "microservice.scheduling" -}}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The label Prometheus (metrics.prometheus.release) selects ServiceMonitors and PrometheusRules by. */}}
{{- define "microservice.prometheusSelectorLabels" -}}
{{- with .Values.metrics.prometheus.release -}}
release: {{ . }}
{{- end -}}
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
{{- with .serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
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
{{- with include "microservice.scheduling" $ }}
{{ . }}
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
      {{- with .mounts }}
      {{- . | nindent 6 }}
      {{- end }}
volumes:
  {{- include "microservice.tmpVolume" $ | nindent 2 }}
  {{- with .volumes }}
  {{- . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* Environment of the smoke test: the Service URLs it calls. */}}
{{- define "microservice.smokeEnv" -}}
{{- $env := list -}}
{{- if .Values.userService.enabled -}}
{{- $env = list (dict "name" "USER_SERVICE_URL" "value" (include "microservice.userServiceUrl" .)) (dict "name" "ORDER_SERVICE_URL" "value" (include "microservice.selfUrl" .)) -}}
{{- else -}}
{{- $env = list (dict "name" "USER_SERVICE_URL" "value" (include "microservice.selfUrl" .)) -}}
{{- end -}}
{{- $env = append $env (dict "name" "SMOKE_TIMEOUT_MS" "value" (printf "%d" (mul .Values.smokeTest.timeoutSeconds 1000))) -}}
{{- if .Values.smokeTest.readOnly -}}
{{- $env = append $env (dict "name" "SMOKE_READ_ONLY" "value" "true") -}}
{{- end -}}
{{- $env | toJson -}}
{{- end -}}

{{- define "microservice.smokeArgs" -}}
{{- /* Blank lines dropped: they would render as whitespace-only lines inside the YAML block. */ -}}
{{- list "--input-type=module" "-e" (.Files.Get "files/smoke.mjs" | replace "\n\n" "\n") | toJson -}}
{{- end -}}

{{/*
MEMORY_STORE_MAX_BYTES: memoryStore.maxBytes, or a quarter of the heap config.nodeOptions caps
(--max-old-space-size, MiB); 32 MiB when the heap is not capped. A cap above half the heap would let the
store crowd out requests in flight, so it is refused at render time.
*/}}
{{- define "microservice.memoryStoreMaxBytes" -}}
{{- $flag := regexFind "--max-old-space-size=[0-9]+" .Values.config.nodeOptions -}}
{{- $heapBytes := 0 -}}
{{- if $flag -}}{{- $heapBytes = mul (trimPrefix "--max-old-space-size=" $flag | int64) 1048576 -}}{{- end -}}
{{- $max := 0 -}}
{{- if .Values.memoryStore.maxBytes -}}
{{- $max = .Values.memoryStore.maxBytes | int64 -}}
{{- else if $heapBytes -}}
{{- $max = div $heapBytes 4 -}}
{{- else -}}
{{- $max = 33554432 -}}
{{- end -}}
{{- if and $heapBytes (gt $max (div $heapBytes 2)) -}}
{{- fail (printf "memoryStore.maxBytes (%d) must be at most half the heap config.nodeOptions sets (%d bytes)" $max $heapBytes) -}}
{{- end -}}
{{- $max -}}
{{- end -}}

{{/*
The container port the kubelet probes: `probes` (PROBE_PORT) when probes.port is set, else `http`.
*/}}
{{- define "microservice.probePort" -}}
{{- if .Values.probes.port }}probes{{ else }}http{{ end }}
{{- end }}
