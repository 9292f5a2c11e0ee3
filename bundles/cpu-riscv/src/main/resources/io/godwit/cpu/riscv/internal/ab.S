# ab: QEMU's a-b migration guest. Each hart increments the first byte of every page of its own part
# of [RANGE_BASE, RANGE_BASE + RANGE_PAGES * 4096), pass after pass; hart 0 prints 'B' every MARK
# passes. Checked by the sweep workload's a-b oracle. Parameters: RANGE_BASE, RANGE_PAGES, MARK.
start:
    lui   s4, 0xfffff          # MMIO page
    ld    t1, 16(s4)           # number of harts
    li    t2, RANGE_PAGES
    mul   t3, t2, a0
    divu  t3, t3, t1           # first page of this hart: pages * hart / harts
    addi  t4, a0, 1
    mul   t4, t2, t4
    divu  t4, t4, t1           # end page: pages * (hart + 1) / harts
    slli  t3, t3, 12
    slli  t4, t4, 12
    li    t5, RANGE_BASE
    add   s0, t3, t5
    add   s1, t4, t5
    li    s2, 0                # passes
    li    s3, MARK
    lui   s5, 1                # 4096
pass:
    mv    t0, s0
page:
    lbu   t1, 0(t0)
    addi  t1, t1, 1
    sb    t1, 0(t0)
    add   t0, t0, s5
    bltu  t0, s1, page
    addi  s2, s2, 1
    remu  t1, s2, s3
    bnez  t1, pass
    bnez  a0, pass             # only hart 0 prints
    li    t1, 66               # 'B'
    sb    t1, 0(s4)
    j     pass
