/*
 * A C99 consumer of the installed libcano, built with `pkg-config --cflags --libs cano`. It checks
 * that the headers, the shared library and the pkg-config file agree, and that an engine can be
 * created and destroyed through the installed library.
 */
#include <cano/cano.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  cano_engine *engine = NULL;
  cano_error *err = NULL;
  cano_status status;

  if (strcmp(cano_version_string(), CANO_VERSION_STRING) != 0) {
    fprintf(stderr, "version mismatch: library %s, headers %s\n", cano_version_string(),
            CANO_VERSION_STRING);
    return 1;
  }
  if (cano_version_number() != CANO_VERSION_NUMBER) {
    fprintf(stderr, "version number mismatch: library %d, headers %d\n", cano_version_number(),
            CANO_VERSION_NUMBER);
    return 1;
  }
  if (cano_abi_major() != CANO_ABI_MAJOR) {
    fprintf(stderr, "ABI major mismatch: library %d, headers %d\n", cano_abi_major(),
            CANO_ABI_MAJOR);
    return 1;
  }

  status = cano_engine_create(&engine, NULL, &err);
  if (status != CANO_OK || engine == NULL) {
    fprintf(stderr, "cano_engine_create failed: %d %s\n", (int)status,
            err != NULL ? cano_error_message(err) : "(no error detail)");
    cano_error_free(err);
    return 1;
  }
  cano_engine_destroy(engine);

  printf("pkg-config consumer OK: libcano %s, ABI %d\n", cano_version_string(), cano_abi_major());
  return 0;
}
