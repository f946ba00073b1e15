/*
 * seqclient.c -- the single-client latency of tools/gateway-bench.sh: one
 * keep-alive connection, one request at a time (send, read the whole
 * response, send the next), each timed from the first byte sent to the
 * last byte received with CLOCK_MONOTONIC.
 *
 *   seqclient PORT PATH BODY_FILE CONTENT_TYPE SECONDS [WARMUP_REQUESTS]
 *
 * Prints one line: "requests N p50_us X p90_us X p99_us X max_us X".
 * Exits 1 when a response is not "HTTP/1.1 200" or the connection drops.
 * Only Content-Length responses (what docflow and nginx send here).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static char resp[1 << 22];

/* Reads one response; 0 on a 200, -1 otherwise. */
static int read_response(int fd)
{
    size_t have = 0, need = 0;
    for (;;) {
        ssize_t n = read(fd, resp + have, sizeof resp - 1 - have);
        if (n <= 0) return -1;
        have += (size_t)n;
        resp[have] = '\0';
        if (!need) {
            char *end = strstr(resp, "\r\n\r\n");
            if (!end) continue;
            char *cl = strcasestr(resp, "\r\ncontent-length:");
            if (!cl || cl > end) return -1;
            need = (size_t)(end + 4 - resp) + strtoul(cl + 17, NULL, 10);
            if (need >= sizeof resp) return -1;
        }
        if (have >= need) return strncmp(resp, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
    }
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: seqclient PORT PATH BODY_FILE CONTENT_TYPE SECONDS [WARMUP]\n");
        return 2;
    }
    FILE *f = fopen(argv[3], "rb");
    if (!f) return perror(argv[3]), 2;
    static char body[1 << 22];
    size_t blen = fread(body, 1, sizeof body, f);
    fclose(f);
    static char req[(1 << 22) + 1024];
    int hlen = snprintf(req, 1024,
                        "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Type: %s\r\n"
                        "Content-Length: %zu\r\n\r\n",
                        argv[2], argv[1], argv[4], blen);
    memcpy(req + hlen, body, blen);
    size_t rlen = (size_t)hlen + blen;
    double seconds = atof(argv[5]);
    long warmup = argc > 6 ? atol(argv[6]) : 1000;

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return perror("connect"), 1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    size_t cap = 1 << 20, n = 0;
    double *lat = malloc(cap * sizeof *lat);
    double stop = 0;
    for (long i = 0;; i++) {
        if (i == warmup) stop = now_us() + seconds * 1e6;
        double t0 = now_us();
        if (write(fd, req, rlen) != (ssize_t)rlen) return perror("write"), 1;
        if (read_response(fd)) {
            fprintf(stderr, "seqclient: bad response: %.200s\n", resp);
            return 1;
        }
        double t1 = now_us();
        if (i < warmup) continue;
        if (n == cap) lat = realloc(lat, (cap *= 2) * sizeof *lat);
        lat[n++] = t1 - t0;
        if (t1 >= stop) break;
    }
    qsort(lat, n, sizeof *lat, cmp);
    printf("requests %zu p50_us %.1f p90_us %.1f p99_us %.1f max_us %.1f\n", n, lat[(n - 1) / 2],
           lat[(size_t)((double)(n - 1) * 0.90)], lat[(size_t)((double)(n - 1) * 0.99)],
           lat[n - 1]);
    close(fd);
    return 0;
}
