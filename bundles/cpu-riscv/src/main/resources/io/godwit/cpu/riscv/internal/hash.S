# hash: fills WORDS words at BUF with an xorshift64 sequence, then walks the buffer STEPS times in a
# data-dependent order, folding each word into an FNV-1a style hash and writing the word back mixed.
# Prints "hash: <16 hex digits>", stores the hash at RESULT, sets DONE and exits with status 0.
start:
    bnez  a0, park             # one hart works; the others idle
    li    s0, BUF
    li    s1, WORDS
    li    t0, 0x9e3779b97f4a7c15
    mv    t1, s0
    mv    t2, s1
fill:
    slli  t3, t0, 13
    xor   t0, t0, t3
    srli  t3, t0, 7
    xor   t0, t0, t3
    slli  t3, t0, 17
    xor   t0, t0, t3
    sd    t0, 0(t1)
    addi  t1, t1, 8
    addi  t2, t2, -1
    bnez  t2, fill
    li    s2, 0xcbf29ce484222325   # FNV offset basis
    li    s3, 0x100000001b3        # FNV prime
    li    s4, STEPS
    addi  s5, s1, -1               # WORDS is a power of two
    li    t4, 0
walk:
    slli  t5, t4, 3
    add   t5, t5, s0
    ld    t6, 0(t5)
    xor   s2, s2, t6
    mul   s2, s2, s3
    add   t6, t6, s2
    sd    t6, 0(t5)
    srli  t4, s2, 17
    and   t4, t4, s5
    addi  s4, s4, -1
    bnez  s4, walk
    la    a0, label
    call  puts
    mv    a0, s2
    call  puthex
    lui   t0, 0xfffff
    li    t1, 10
    sb    t1, 0(t0)
    li    t0, RESULT
    sd    s2, 0(t0)
    li    t1, 1
    sd    t1, 8(t0)                # DONE, right after RESULT
    li    a0, 0
    j     exit
label:
    .asciz "hash: "
    .align 2
