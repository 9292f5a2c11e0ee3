# lib.S: appended to every built-in program. Uses only t3-t6 and a0.

# puts: writes the NUL-terminated string at a0 to the UART.
puts:
    lui   t6, 0xfffff          # 0xffff_ffff_ffff_f000, the MMIO page
puts_loop:
    lbu   t5, 0(a0)
    beqz  t5, puts_end
    sb    t5, 0(t6)
    addi  a0, a0, 1
    j     puts_loop
puts_end:
    ret

# puthex: writes a0 as 16 hex digits to the UART.
puthex:
    lui   t6, 0xfffff
    li    t4, 60
puthex_loop:
    srl   t5, a0, t4
    andi  t5, t5, 15
    addi  t5, t5, 48           # '0'
    li    t3, 58
    blt   t5, t3, puthex_digit
    addi  t5, t5, 39           # 'a' - '0' - 10
puthex_digit:
    sb    t5, 0(t6)
    addi  t4, t4, -4
    bgez  t4, puthex_loop
    ret

# exit: ends the guest with status a0 (the EXIT register of the MMIO page).
exit:
    lui   t6, 0xfffff
    sd    a0, 8(t6)
exit_hang:
    j     exit_hang

# park: harts with nothing to do wait for an interrupt that never comes.
park:
    wfi
    j     park
