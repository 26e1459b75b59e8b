module github.com/libcano/cano/examples/go/batch

go 1.19

require github.com/libcano/cano/bindings/go v0.0.0

replace github.com/libcano/cano/bindings/go => ../../../bindings/go
