// Typed wrappers around libcurl's varargs setopt/getinfo; see CShims.h for why each exists.
#include "CShims.h"

// The shims forward `long` and `curl_off_t` unchanged; they are the same width on every platform we build for,
// but curl reads them through different va_arg types, so the distinction still matters.
_Static_assert(sizeof(curl_off_t) == 8, "curl_off_t is 64-bit");
_Static_assert(sizeof(long) == sizeof(void *), "LP64: long holds a pointer-sized value");

CURLcode s3m_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode s3m_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode s3m_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode s3m_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode s3m_easy_setopt_write_callback(CURL *handle, s3m_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

CURLcode s3m_easy_setopt_header_callback(CURL *handle, s3m_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

CURLcode s3m_easy_setopt_read_callback(CURL *handle, s3m_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_READFUNCTION, callback);
}

CURLcode s3m_easy_setopt_seek_callback(CURL *handle, s3m_seek_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, callback);
}

CURLcode s3m_easy_setopt_xferinfo_callback(CURL *handle, s3m_xferinfo_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

CURLcode s3m_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLcode s3m_easy_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLcode s3m_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLcode s3m_easy_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLMcode s3m_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}
