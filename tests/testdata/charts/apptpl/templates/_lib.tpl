{{- define "apptpl.fullname" -}}
{{- $root := index . 0 -}}{{- $name := index . 1 -}}
{{- if eq $name "main" -}}{{ $root.Release.Name }}{{- else -}}{{ printf "%s-%s" $root.Release.Name $name }}{{- end -}}
{{- end -}}
