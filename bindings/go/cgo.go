package cano

// Build configuration. pkg-config finds libcano (set PKG_CONFIG_PATH for an installation outside
// the system prefixes, or for a build tree: bindings/go/CMakeLists.txt generates an uninstalled
// cano.pc). cano_go.h refuses, with #error, to compile against headers of another ABI major.

/*
#cgo pkg-config: cano
#include "cano_go.h"
#if CANO_ABI_MAJOR != 0
#error "bindings/go is written for libcano ABI major 0"
#endif
*/
import "C"
