/*
 * cano/export.h - the export macro every public declaration carries.
 *
 * The library is built with hidden visibility; only declarations marked CANO_API leave the
 * shared object, and the linker version script (src/libcano.map) keeps everything but cano_*
 * local as a second line of defence.
 *
 * Since 0.1.0.
 */
#ifndef CANO_EXPORT_H
#define CANO_EXPORT_H

#if defined(_WIN32)
#  if defined(CANO_BUILDING_SHARED)
#    define CANO_API __declspec(dllexport)
#  elif defined(CANO_SHARED)
#    define CANO_API __declspec(dllimport)
#  else
#    define CANO_API
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define CANO_API __attribute__((visibility("default")))
#else
#  define CANO_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define CANO_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#  define CANO_DEPRECATED(msg)
#endif

#ifdef __cplusplus
#  define CANO_EXTERN_C_BEGIN extern "C" {
#  define CANO_EXTERN_C_END }
#else
#  define CANO_EXTERN_C_BEGIN
#  define CANO_EXTERN_C_END
#endif

#endif /* CANO_EXPORT_H */
