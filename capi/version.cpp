// C ABI: version queries (include/cano/version.h).
#include "cano/version.h"

extern "C" {

CANO_API const char* cano_version_string(void) { return CANO_VERSION_STRING; }
CANO_API int cano_version_number(void) { return CANO_VERSION_NUMBER; }
CANO_API int cano_abi_major(void) { return CANO_ABI_MAJOR; }

}  // extern "C"
