/*
 * netns-delay: a per-packet delay (and loss) for benchmarks/netns on kernels without netem.
 *
 *   netns-delay QUEUE DELAY_US LOSS_PPM
 *
 * Binds to NFQUEUE number QUEUE in the network namespace it runs in, and gives every packet the
 * rules send there its NF_ACCEPT verdict DELAY_US microseconds after the kernel queued it, or drops
 * it at once with probability LOSS_PPM / 10^6. The delay is the same for every packet, so the queue
 * in arrival order is also the queue in deadline order: a ring of packet ids and deadlines, and one
 * batch verdict (every id up to the last one due) each time the earliest deadline passes. It asks
 * for the packets' metadata only (no payload copy), and for a queue long enough to hold a
 * bandwidth-delay product of 10 Gbit/s x 20 ms of full-size packets; what does not fit the kernel
 * drops, as netem does beyond its limit, and counts in /proc/net/netfilter/nfnetlink_queue.
 *
 * The rules should use --queue-bypass, so that packets pass undelayed, rather than vanish, when this
 * process is not running. It stops on SIGTERM or SIGINT; the kernel forgets the queue when it exits.
 * Built by benchmarks/netns: gcc -O2 -o netns-delay netns-delay.c -lnetfilter_queue -lnfnetlink
 */
#define _GNU_SOURCE /* ppoll */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#define RING (1u << 18) /* ids waiting for their verdict; a power of two */
#define QUEUE_MAXLEN 200000u

static struct {
    uint32_t id[RING];
    uint64_t due_ns[RING];
    uint32_t head, tail; /* head: next to release; tail: next free slot */
} ring;

static uint64_t delay_ns;
static uint32_t loss_ppm;
static volatile sig_atomic_t stop;
static unsigned long long dropped, overflowed;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void release_due(struct nfq_q_handle *qh, uint64_t now)
{
    uint32_t last = 0;
    int any = 0;
    while (ring.head != ring.tail && ring.due_ns[ring.head % RING] <= now) {
        last = ring.id[ring.head % RING];
        ring.head++;
        any = 1;
    }
    /* one verdict for every packet still queued with an id up to the last one due */
    if (any && nfq_set_verdict_batch(qh, last, NF_ACCEPT) < 0)
        perror("netns-delay: nfq_set_verdict_batch");
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
    (void)msg;
    (void)data;
    struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
    if (ph == NULL)
        return 0;
    uint32_t id = ntohl(ph->packet_id);
    if (loss_ppm > 0 && (uint32_t)(random() % 1000000) < loss_ppm) {
        dropped++;
        return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
    }
    if (ring.tail - ring.head == RING) { /* cannot happen below QUEUE_MAXLEN; never hold a packet untracked */
        overflowed++;
        return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
    }
    ring.id[ring.tail % RING] = id;
    ring.due_ns[ring.tail % RING] = now_ns() + delay_ns;
    ring.tail++;
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: netns-delay QUEUE DELAY_US LOSS_PPM\n");
        return 2;
    }
    uint16_t queue = (uint16_t)atoi(argv[1]);
    delay_ns = strtoull(argv[2], NULL, 10) * 1000u;
    loss_ppm = (uint32_t)strtoul(argv[3], NULL, 10);
    srandom((unsigned)now_ns());

    struct nfq_handle *h = nfq_open();
    if (h == NULL) {
        perror("netns-delay: nfq_open");
        return 1;
    }
    struct nfq_q_handle *qh = nfq_create_queue(h, queue, on_packet, NULL);
    if (qh == NULL) {
        perror("netns-delay: nfq_create_queue (is another process bound to this queue?)");
        return 1;
    }
    if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0 || nfq_set_queue_maxlen(qh, QUEUE_MAXLEN) < 0) {
        perror("netns-delay: configuring the queue");
        return 1;
    }
    int fd = nfq_fd(h);
    /* a burst of queued packets must not overflow the netlink socket (ENOBUFS loses them) */
    nfnl_rcvbufsiz(nfq_nfnlh(h), 32u << 20);
    int one = 1;
    setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);

    /* A delay is only as exact as this process's wake-ups: on a host busy with the two JVMs a normal
     * thread woke up to tens of ms late (a 10 ms round trip measured 39 ms). Real-time priority and
     * locked memory where allowed (root); without them it runs, less exactly. */
    struct sched_param prio = {.sched_priority = 10};
    if (sched_setscheduler(0, SCHED_FIFO, &prio) < 0)
        perror("netns-delay: SCHED_FIFO (the delay may jitter on a busy host)");
    mlockall(MCL_CURRENT | MCL_FUTURE);

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    static char buf[1 << 16];
    fprintf(stderr, "netns-delay: queue %u, delay %llu us, loss %u ppm\n", queue,
            (unsigned long long)(delay_ns / 1000u), loss_ppm);
    while (!stop) {
        uint64_t now = now_ns();
        release_due(qh, now);
        struct timespec wait = {1, 0};
        if (ring.head != ring.tail) {
            uint64_t left = ring.due_ns[ring.head % RING] - now; /* > 0: release_due took the due ones */
            wait.tv_sec = (time_t)(left / 1000000000u);
            wait.tv_nsec = (long)(left % 1000000000u);
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = ppoll(&p, 1, &wait, NULL);
        if (n < 0 && errno != EINTR) {
            perror("netns-delay: ppoll");
            return 1;
        }
        if (n > 0) {
            /* drain what is there without blocking, so a burst is timestamped as it arrives */
            for (;;) {
                ssize_t len = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (len < 0)
                    break;
                nfq_handle_packet(h, buf, (int)len);
            }
        }
    }
    release_due(qh, UINT64_MAX);
    fprintf(stderr, "netns-delay: stopped; %llu dropped on purpose, %llu passed undelayed (ring full)\n", dropped,
            overflowed);
    nfq_destroy_queue(qh);
    nfq_close(h);
    return 0;
}
