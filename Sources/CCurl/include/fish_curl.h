#ifndef FISH_CURL_H
#define FISH_CURL_H

// The one place FishOps touches libcurl. curl_easy_setopt is variadic, which Swift cannot call,
// and the body and header callbacks are easiest in C, so one call here performs a whole request.

#include <stddef.h>

/// One request. Strings are NUL-terminated; NULL (or 0) leaves an option unset.
typedef struct {
    const char *url;
    /// "GET", "POST", "PUT", "DELETE", ...
    const char *method;
    /// Header lines ("Name: value").
    const char *const *headers;
    int header_count;
    /// The body from memory...
    const void *body;
    size_t body_length;
    /// ...or streamed from this file (its size is sent as Content-Length).
    const char *upload_path;
    /// Streams the response body to this file instead of memory.
    const char *download_path;
    /// Largest response body kept in memory; larger replies fail with FISH_CURL_TOO_LARGE.
    size_t max_body_bytes;
    /// Whole-transfer limit (0: none) and connection limit, in milliseconds.
    long timeout_ms;
    long connect_timeout_ms;
    /// Fails a transfer that moves no byte for this many seconds (0: never).
    long stall_seconds;
    /// Whether the server's TLS certificate and host name are verified.
    int verify_tls;
    /// Bearer token, or user and password for Basic authentication (libcurl keeps them off redirects to other hosts).
    const char *bearer_token;
    const char *basic_user;
    const char *basic_password;
} fish_curl_request;

/// What came back. Free with `fish_curl_response_free`.
typedef struct {
    /// The HTTP status of the last response (0 when none arrived).
    long status;
    /// The body (when not downloaded to a file) and the last response's header block.
    char *body;
    size_t body_length;
    char *headers;
    size_t headers_length;
    /// Bytes written to `download_path`.
    size_t downloaded;
    /// libcurl's result code and its message.
    int curl_code;
    char error[256];
} fish_curl_response;

enum fish_curl_outcome {
    FISH_CURL_OK = 0,
    /// libcurl failed (connection, TLS, timeout...): see `curl_code` and `error`.
    FISH_CURL_TRANSFER = 1,
    /// The reply was larger than `max_body_bytes`.
    FISH_CURL_TOO_LARGE = 2,
    /// The upload or download file could not be opened.
    FISH_CURL_FILE = 3,
    /// Out of memory.
    FISH_CURL_MEMORY = 4,
};

/// libcurl's code for a timed-out transfer.
int fish_curl_code_timed_out(void);

/// Performs `request`; returns a `fish_curl_outcome`. Safe to call from several threads at once.
int fish_curl_perform(const fish_curl_request *request, fish_curl_response *response);

void fish_curl_response_free(fish_curl_response *response);

#endif
