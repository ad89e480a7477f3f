// CShims: typed C wrappers for what Swift cannot call directly (variadic functions, function-like macros).
// Every shim is prefixed s3m_. Owned by the S3HTTP work (curl, libcrypto) and the CLI (syslog).
//
// libcurl's setopt/getinfo entry points are C varargs, which Swift refuses to call ("Variadic function is
// unavailable"). Each shim below fixes one argument type so the compiler checks what we pass; the option constant
// still decides how curl reads it, so callers must pair an option with the shim of its documented type.
// libcrypto (SHA-256, HMAC) has plain prototypes and is used straight from Swift through the includes below.
#ifndef S3MOUNT_CSHIMS_H
#define S3MOUNT_CSHIMS_H

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "syslog_shim.h"

// Callback shapes libcurl documents for CURLOPT_WRITEFUNCTION / CURLOPT_HEADERFUNCTION and
// CURLOPT_XFERINFOFUNCTION; spelled out so Swift sees @convention(c) function types.
typedef size_t (*s3m_data_callback)(char *buffer, size_t size, size_t nitems, void *userdata);
// CURLOPT_READFUNCTION has the same shape as the write callback: fill `buffer` with up to size * nitems bytes and
// return how many (0 at the end, CURL_READFUNC_ABORT to fail). CURLOPT_SEEKFUNCTION rewinds an upload curl must
// send again (a reused connection that turned out dead): return CURL_SEEKFUNC_OK or CURL_SEEKFUNC_FAIL.
typedef int (*s3m_seek_callback)(void *userdata, curl_off_t offset, int origin);
typedef int (*s3m_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                                     curl_off_t ulnow);

// curl_easy_setopt for options documented as taking a `long` (flags, timeouts, sizes below 2 GiB).
CURLcode s3m_easy_setopt_long(CURL *handle, CURLoption option, long value);
// curl_easy_setopt for `char *` options (URL, CAINFO, CUSTOMREQUEST); curl copies the string.
CURLcode s3m_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
// curl_easy_setopt for object pointers (HTTPHEADER slist, WRITEDATA/HEADERDATA/XFERINFODATA userdata).
CURLcode s3m_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
// curl_easy_setopt for `curl_off_t` options (*_LARGE sizes and offsets), which must not be passed as long.
CURLcode s3m_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
// CURLOPT_WRITEFUNCTION: a function pointer cannot travel through the `void *` shim portably.
CURLcode s3m_easy_setopt_write_callback(CURL *handle, s3m_data_callback callback);
// CURLOPT_HEADERFUNCTION: same shape as the write callback, one header line per call.
CURLcode s3m_easy_setopt_header_callback(CURL *handle, s3m_data_callback callback);
// CURLOPT_READFUNCTION: where an upload's body bytes come from (READDATA is its userdata).
CURLcode s3m_easy_setopt_read_callback(CURL *handle, s3m_data_callback callback);
// CURLOPT_SEEKFUNCTION: rewinds the upload body (SEEKDATA is its userdata).
CURLcode s3m_easy_setopt_seek_callback(CURL *handle, s3m_seek_callback callback);
// CURLOPT_XFERINFOFUNCTION: progress callback; returning non-zero aborts the transfer.
CURLcode s3m_easy_setopt_xferinfo_callback(CURL *handle, s3m_xferinfo_callback callback);

// curl_easy_getinfo for CURLINFO_LONG results (response code, connection counts).
CURLcode s3m_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
// curl_easy_getinfo for CURLINFO_DOUBLE results (legacy timing values).
CURLcode s3m_easy_getinfo_double(CURL *handle, CURLINFO info, double *value);
// curl_easy_getinfo for CURLINFO_OFF_T results (*_T sizes and microsecond timings).
CURLcode s3m_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
// curl_easy_getinfo for CURLINFO_STRING results; the string belongs to the handle, copy it before reuse.
CURLcode s3m_easy_getinfo_string(CURL *handle, CURLINFO info, char **value);

// curl_multi_setopt for `long` options (connection limits, pipelining flags).
CURLMcode s3m_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

#endif
