package cano

/*
#include "cano_go.h"
*/
import "C"

import "fmt"

// ABIMajorSupported is the libcano ABI major (SONAME version) this package is written for
// (CANO_GO_ABI_MAJOR in cano_go.h). The build refuses headers of another ABI major with
// #error, and the package checks the loaded library's cano_abi_major() when it initialises.
const ABIMajorSupported = 0

// abiErr is non-nil when the loaded library's ABI major differs from ABIMajorSupported; every
// constructor then returns it, so nothing ever calls into an incompatible library.
var abiErr = checkABI(int(C.cano_abi_major()))

func checkABI(loaded int) error {
	if loaded == ABIMajorSupported {
		return nil
	}
	return fmt.Errorf("cano: the loaded libcano has ABI major %d, this package needs %d",
		loaded, ABIMajorSupported)
}

// CheckABI reports whether the loaded libcano has the ABI major this package was written for.
// NewEngine, NewWorkflow, NewResources and NewMemoryStore return the same error. Any goroutine.
func CheckABI() error { return abiErr }

// Version is the loaded library's version, "MAJOR.MINOR.PATCH". Any goroutine.
func Version() string { return C.GoString(C.cano_version_string()) }

// VersionNumber is the loaded library's MAJOR*10000 + MINOR*100 + PATCH. Any goroutine.
func VersionNumber() int { return int(C.cano_version_number()) }

// HeaderVersion is the version of the headers the package was compiled against. Any goroutine.
const HeaderVersion = C.CANO_VERSION_STRING

// ABIMajor is the loaded library's ABI major (its SONAME version). Any goroutine.
func ABIMajor() int { return int(C.cano_abi_major()) }

// cGoABIMajor is CANO_GO_ABI_MAJOR, for the test that keeps ABIMajorSupported in step with it.
func cGoABIMajor() int { return int(C.CANO_GO_ABI_MAJOR) }
