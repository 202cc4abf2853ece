module github.com/extism-conformance/plugins-hostile/go

go 1.24

require github.com/extism/go-pdk v1.1.3
