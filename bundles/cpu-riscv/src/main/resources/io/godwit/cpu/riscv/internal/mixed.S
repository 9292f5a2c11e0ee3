# mixed: computes and dirties memory at once. ITERS iterations of: x = xorshift64(x);
# buf[x & (WORDS-1)] += x ^ i; then the counter at CTR = i + 1. Prints '.' every 2^20 iterations.
# At the end folds the buffer into a checksum, prints "mixed: <16 hex digits>", stores it at
# RESULT, sets DONE and exits with status 0. The oracle replays the counter's iterations.
start:
    bnez  a0, park
    li    s0, BUF
    li    s1, WORDS
    addi  s1, s1, -1               # mask
    li    s2, ITERS
    li    s3, CTR
    li    s5, 0                    # i
    li    s6, 0x2545f4914f6cdd1d   # x
    lui   s7, 0xfffff
loop:
    slli  t3, s6, 13
    xor   s6, s6, t3
    srli  t3, s6, 7
    xor   s6, s6, t3
    slli  t3, s6, 17
    xor   s6, s6, t3
    and   t0, s6, s1
    slli  t0, t0, 3
    add   t0, t0, s0
    ld    t1, 0(t0)
    xor   t2, s6, s5
    add   t1, t1, t2
    sd    t1, 0(t0)
    addi  s5, s5, 1
    sd    s5, 0(s3)
    slli  t3, s5, 44               # every 2^20 iterations
    bnez  t3, next
    li    t3, 46                   # '.'
    sb    t3, 0(s7)
next:
    bltu  s5, s2, loop
    li    s8, 0                    # checksum
    li    s9, 0x100000001b3
    mv    t0, s0
    addi  t1, s1, 1
sum:
    ld    t2, 0(t0)
    xor   s8, s8, t2
    mul   s8, s8, s9
    addi  t0, t0, 8
    addi  t1, t1, -1
    bnez  t1, sum
    li    t1, 10
    sb    t1, 0(s7)
    la    a0, label
    call  puts
    mv    a0, s8
    call  puthex
    li    t1, 10
    sb    t1, 0(s7)
    li    t0, RESULT
    sd    s8, 0(t0)
    li    t1, 1
    sd    t1, 8(t0)
    li    a0, 0
    j     exit
label:
    .asciz "mixed: "
    .align 2
