#include "fish_curl.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

_Static_assert(sizeof(((fish_curl_response *)0)->error) >= CURL_ERROR_SIZE, "libcurl's error buffer size");

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

/// OpenSSL's `OPENSSL_INIT_NO_ATEXIT` (openssl/crypto.h, OpenSSL 1.1.1 and later).
#define FISH_OPENSSL_INIT_NO_ATEXIT 0x00080000L

/// Initialises libcurl once. Before that, when libcurl runs on OpenSSL (Debian's libcurl4), asks
/// OpenSSL not to free its state in an exit handler: a transfer still running on another thread
/// while the process exits (the MLflow drain, say) would otherwise use freed locks and crash. The
/// function is looked up in the libcrypto libcurl already loaded, so no OpenSSL headers are needed;
/// with another TLS library it is simply absent.
static void global_init(void) {
    typedef int (*openssl_init)(uint64_t options, const void *settings);
    openssl_init init_crypto = (openssl_init)dlsym(RTLD_DEFAULT, "OPENSSL_init_crypto");
    if (init_crypto != NULL) init_crypto(FISH_OPENSSL_INIT_NO_ATEXIT, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int fish_curl_code_timed_out(void) { return CURLE_OPERATION_TIMEDOUT; }

/// A growing buffer with a cap.
typedef struct {
    char *data;
    size_t length;
    size_t capacity;
    size_t cap;
    int too_large;
    int out_of_memory;
} buffer;

static int buffer_append(buffer *target, const char *bytes, size_t count) {
    if (target->length + count > target->cap) {
        target->too_large = 1;
        return 0;
    }
    if (target->length + count + 1 > target->capacity) {
        size_t capacity = target->capacity ? target->capacity : 4096;
        while (capacity < target->length + count + 1) capacity *= 2;
        char *grown = realloc(target->data, capacity);
        if (!grown) {
            target->out_of_memory = 1;
            return 0;
        }
        target->data = grown;
        target->capacity = capacity;
    }
    memcpy(target->data + target->length, bytes, count);
    target->length += count;
    target->data[target->length] = 0;
    return 1;
}

static size_t on_body(char *bytes, size_t size, size_t count, void *context) {
    return buffer_append(context, bytes, size * count) ? size * count : 0;
}

typedef struct {
    FILE *file;
    size_t written;
} sink;

static size_t on_file_body(char *bytes, size_t size, size_t count, void *context) {
    sink *target = context;
    size_t written = fwrite(bytes, size, count, target->file);
    target->written += written * size;
    return written * size;
}

/// Keeps only the last response's header block (redirects and `100 Continue` come before it).
static size_t on_header(char *bytes, size_t size, size_t count, void *context) {
    buffer *target = context;
    if (count * size >= 5 && strncmp(bytes, "HTTP/", 5) == 0) target->length = 0;
    return buffer_append(target, bytes, size * count) ? size * count : 0;
}

int fish_curl_perform(const fish_curl_request *request, fish_curl_response *response) {
    pthread_once(&global_once, global_init);
    memset(response, 0, sizeof *response);
    CURL *curl = curl_easy_init();
    if (!curl) return FISH_CURL_MEMORY;

    buffer body = {.cap = request->max_body_bytes};
    buffer headers = {.cap = 1 << 20};
    struct curl_slist *header_list = NULL;
    FILE *upload = NULL;
    sink download = {0};
    int outcome = FISH_CURL_OK;

    curl_easy_setopt(curl, CURLOPT_URL, request->url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, response->error);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "fishops");
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, request->verify_tls ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, request->verify_tls ? 2L : 0L);
    if (request->timeout_ms > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request->timeout_ms);
    if (request->connect_timeout_ms > 0) curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, request->connect_timeout_ms);
    if (request->stall_seconds > 0) {
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, request->stall_seconds);
    }
    if (request->bearer_token) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, request->bearer_token);
    } else if (request->basic_user) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERNAME, request->basic_user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, request->basic_password ? request->basic_password : "");
    }
    for (int index = 0; index < request->header_count; index++) {
        struct curl_slist *grown = curl_slist_append(header_list, request->headers[index]);
        if (!grown) {
            outcome = FISH_CURL_MEMORY;
            goto done;
        }
        header_list = grown;
    }
    // libcurl would otherwise send `Expect: 100-continue` and wait for it before large bodies.
    struct curl_slist *grown = curl_slist_append(header_list, "Expect:");
    if (!grown) {
        outcome = FISH_CURL_MEMORY;
        goto done;
    }
    header_list = grown;
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);

    if (request->upload_path) {
        upload = fopen(request->upload_path, "rb");
        struct stat info;
        if (!upload || fstat(fileno(upload), &info) != 0) {
            snprintf(response->error, sizeof response->error, "cannot read %s: %s", request->upload_path, strerror(errno));
            outcome = FISH_CURL_FILE;
            goto done;
        }
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READDATA, upload);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)info.st_size);
    } else if (request->body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request->body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_length);
    } else if (strcmp(request->method, "POST") == 0 || strcmp(request->method, "PUT") == 0 || strcmp(request->method, "PATCH") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    if (strcmp(request->method, "GET") == 0 && !request->body && !request->upload_path) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request->method);
    }

    if (request->download_path) {
        download.file = fopen(request->download_path, "wb");
        if (!download.file) {
            snprintf(response->error, sizeof response->error, "cannot write %s: %s", request->download_path, strerror(errno));
            outcome = FISH_CURL_FILE;
            goto done;
        }
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_file_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &download);
    } else {
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    }
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers);

    CURLcode code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response->status);
    response->curl_code = code;
    if (body.too_large) {
        outcome = FISH_CURL_TOO_LARGE;
    } else if (body.out_of_memory || headers.out_of_memory) {
        outcome = FISH_CURL_MEMORY;
    } else if (code != CURLE_OK) {
        if (!response->error[0]) snprintf(response->error, sizeof response->error, "%s", curl_easy_strerror(code));
        outcome = FISH_CURL_TRANSFER;
    }

done:
    if (download.file && fclose(download.file) != 0 && outcome == FISH_CURL_OK) {
        snprintf(response->error, sizeof response->error, "cannot write %s: %s", request->download_path, strerror(errno));
        outcome = FISH_CURL_FILE;
    }
    response->downloaded = download.written;
    if (upload) fclose(upload);
    curl_slist_free_all(header_list);
    curl_easy_cleanup(curl);
    response->body = body.data;
    response->body_length = body.length;
    response->headers = headers.data;
    response->headers_length = headers.length;
    return outcome;
}

void fish_curl_response_free(fish_curl_response *response) {
    free(response->body);
    free(response->headers);
    response->body = NULL;
    response->headers = NULL;
}
