module github.com/libcano/cano/bindings/go

go 1.19
