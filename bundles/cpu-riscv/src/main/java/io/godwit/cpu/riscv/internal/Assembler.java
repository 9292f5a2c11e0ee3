package io.godwit.cpu.riscv.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A two-pass RV64IM + Zicsr text assembler, so guest programs live in the repository as source and
 * need no cross toolchain. Pass 1 sizes every line and collects labels; pass 2 emits the words.
 *
 * <p>Syntax: one statement per line, {@code #} comments, {@code label:}, GNU register names
 * ({@code x0..x31} and ABI names), {@code imm(reg)} operands, expressions {@code a+b-c} of numbers
 * and symbols. Directives: {@code .equ NAME, EXPR}, {@code .word}, {@code .dword}, {@code .byte},
 * {@code .asciz "text"}, {@code .align N} (2^N bytes), {@code .space N}. Pseudo-instructions: li, la,
 * mv, not, neg, nop, j, jr, ret, call, beqz, bnez, bltz, bgez, blez, bgtz, bgt, ble, bgtu, bleu,
 * seqz, snez, csrr, csrw, csrs, csrc. {@code li} takes a value known in pass 1 (a number or an
 * earlier {@code .equ}); use {@code la} for labels.
 */
final class Assembler {

    private static final Map<String, Integer> REGS = new HashMap<>();
    private static final Map<String, Integer> CSRS = Map.ofEntries(
            Map.entry("mstatus", 0x300), Map.entry("misa", 0x301), Map.entry("mie", 0x304),
            Map.entry("mtvec", 0x305), Map.entry("mscratch", 0x340), Map.entry("mepc", 0x341),
            Map.entry("mcause", 0x342), Map.entry("mtval", 0x343), Map.entry("mip", 0x344),
            Map.entry("mcycle", 0xB00), Map.entry("minstret", 0xB02), Map.entry("cycle", 0xC00),
            Map.entry("time", 0xC01), Map.entry("instret", 0xC02), Map.entry("mhartid", 0xF14));

    static {
        String[] abi = {"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3",
            "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
            "t5", "t6"};
        for (int i = 0; i < 32; i++) {
            REGS.put("x" + i, i);
            REGS.put(abi[i], i);
        }
        REGS.put("fp", 8);
    }

    private final long base;
    private final Map<String, Long> symbols = new HashMap<>();
    private ByteArrayOutputStream out;
    private boolean emit;
    private long pc;
    private int line;

    private Assembler(long base, Map<String, Long> predefined) {
        this.base = base;
        symbols.putAll(predefined);
    }

    /**
     * Assembles {@code source} for load address {@code base}.
     *
     * @param predefined symbols the program is parameterised with (as if {@code .equ})
     * @throws IllegalArgumentException with the line number and what is wrong
     */
    static byte[] assemble(String source, long base, Map<String, Long> predefined) {
        Assembler a = new Assembler(base, predefined);
        List<String> lines = source.lines().toList();
        a.pass(lines, false);
        a.pass(lines, true);
        return a.out.toByteArray();
    }

    private void pass(List<String> lines, boolean second) {
        emit = second;
        out = new ByteArrayOutputStream();
        pc = base;
        line = 0;
        for (String raw : lines) {
            line++;
            try {
                statement(raw);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + line + ": " + e.getMessage() + ": " + raw.strip());
            }
        }
    }

    private void statement(String raw) {
        String s = stripComment(raw).strip();
        int colon;
        while ((colon = labelEnd(s)) > 0) {
            String label = s.substring(0, colon).strip();
            if (!emit) {
                if (symbols.containsKey(label)) {
                    throw new IllegalArgumentException("label '" + label + "' defined twice");
                }
                symbols.put(label, pc);
            }
            s = s.substring(colon + 1).strip();
        }
        if (s.isEmpty()) {
            return;
        }
        int sp = indexOfSpace(s);
        String mnemonic = (sp < 0 ? s : s.substring(0, sp)).toLowerCase(Locale.ROOT);
        String rest = sp < 0 ? "" : s.substring(sp + 1).strip();
        if (mnemonic.startsWith(".")) {
            directive(mnemonic, rest);
        } else {
            instruction(mnemonic, rest.isEmpty() ? new String[0] : splitOperands(rest));
        }
    }

    private static String stripComment(String s) {
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == '#' && !quoted) {
                return s.substring(0, i);
            }
        }
        return s;
    }

    private static int labelEnd(String s) {
        int c = s.indexOf(':');
        if (c <= 0) {
            return -1;
        }
        String label = s.substring(0, c);
        return label.matches("[A-Za-z_.$][A-Za-z0-9_.$]*") ? c : -1;
    }

    private static int indexOfSpace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    private static String[] splitOperands(String s) {
        String[] parts = s.split(",");
        for (int i = 0; i < parts.length; i++) {
            parts[i] = parts[i].strip();
        }
        return parts;
    }

    // ---- directives -------------------------------------------------------------------------

    private void directive(String d, String rest) {
        switch (d) {
            case ".equ", ".set" -> {
                String[] p = splitOperands(rest);
                need(p, 2);
                if (!emit) {
                    symbols.put(p[0], value(p[1], true));
                }
            }
            case ".byte" -> data(rest, 1);
            case ".half" -> data(rest, 2);
            case ".word" -> data(rest, 4);
            case ".dword", ".quad" -> data(rest, 8);
            case ".asciz", ".string" -> {
                if (!rest.startsWith("\"") || !rest.endsWith("\"") || rest.length() < 2) {
                    throw new IllegalArgumentException("expected a quoted string");
                }
                byte[] b = unescape(rest.substring(1, rest.length() - 1)).getBytes(StandardCharsets.UTF_8);
                for (byte x : b) {
                    bytes(x, 1);
                }
                bytes(0, 1);
            }
            case ".align" -> {
                long a = 1L << value(rest, true);
                while ((pc & (a - 1)) != 0) {
                    bytes(0, 1);
                }
            }
            case ".space", ".zero" -> {
                long n = value(rest, true);
                for (long i = 0; i < n; i++) {
                    bytes(0, 1);
                }
            }
            case ".text", ".data", ".globl", ".global", ".section" -> { }
            default -> throw new IllegalArgumentException("unknown directive " + d);
        }
    }

    private void data(String rest, int size) {
        for (String v : splitOperands(rest)) {
            bytes(emit ? value(v, false) : 0, size);
        }
    }

    private static String unescape(String s) {
        return s.replace("\\n", "\n").replace("\\t", "\t").replace("\\\"", "\"").replace("\\\\", "\\");
    }

    private void bytes(long v, int size) {
        if (emit) {
            for (int i = 0; i < size; i++) {
                out.write((int) (v >>> (8 * i)));
            }
        }
        pc += size;
    }

    private void word(int w) {
        bytes(w & 0xFFFFFFFFL, 4);
    }

    // ---- operands ---------------------------------------------------------------------------

    private static void need(String[] ops, int n) {
        if (ops.length != n) {
            throw new IllegalArgumentException("expected " + n + " operands, found " + ops.length);
        }
    }

    private static int reg(String r) {
        Integer n = REGS.get(r.toLowerCase(Locale.ROOT));
        if (n == null) {
            throw new IllegalArgumentException("unknown register '" + r + "'");
        }
        return n;
    }

    /** Evaluates {@code a+b-c}; in pass 1 an unknown symbol is 0 unless {@code known} is required. */
    private long value(String expr, boolean known) {
        String e = expr.replace(" ", "");
        if (e.isEmpty()) {
            throw new IllegalArgumentException("missing value");
        }
        long total = 0;
        int i = 0;
        int sign = 1;
        if (e.charAt(0) == '-' || e.charAt(0) == '+') {
            sign = e.charAt(0) == '-' ? -1 : 1;
            i = 1;
        }
        while (i <= e.length()) {
            int j = i;
            while (j < e.length() && e.charAt(j) != '+' && e.charAt(j) != '-') {
                j++;
            }
            total += sign * term(e.substring(i, j), known);
            if (j >= e.length()) {
                break;
            }
            sign = e.charAt(j) == '-' ? -1 : 1;
            i = j + 1;
        }
        return total;
    }

    private long term(String t, boolean known) {
        if (t.isEmpty()) {
            throw new IllegalArgumentException("bad expression");
        }
        if (Character.isDigit(t.charAt(0))) {
            String n = t.toLowerCase(Locale.ROOT).replace("_", "");
            try {
                if (n.startsWith("0x")) {
                    return Long.parseUnsignedLong(n.substring(2), 16);
                }
                if (n.startsWith("0b")) {
                    return Long.parseUnsignedLong(n.substring(2), 2);
                }
                return n.length() < 19 ? Long.parseLong(n) : Long.parseUnsignedLong(n); // up to 2^64 - 1
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad number '" + t + "'");
            }
        }
        if (t.length() == 3 && t.charAt(0) == '\'' && t.charAt(2) == '\'') {
            return t.charAt(1);
        }
        Long v = symbols.get(t);
        if (v == null) {
            if (emit || known) {
                throw new IllegalArgumentException("unknown symbol '" + t + "'"
                        + (known && !emit ? " (li and .equ need a value defined above; use la for labels)" : ""));
            }
            return 0;
        }
        return v;
    }

    /** {@code imm(reg)} → {reg, imm}. */
    private int[] memOperand(String op) {
        int open = op.indexOf('(');
        if (open < 0 || !op.endsWith(")")) {
            throw new IllegalArgumentException("expected offset(register), found '" + op + "'");
        }
        String off = op.substring(0, open).strip();
        long imm = off.isEmpty() ? 0 : value(off, false);
        return new int[] {reg(op.substring(open + 1, op.length() - 1).strip()), (int) checkImm(imm, 12)};
    }

    private long checkImm(long v, int bits) {
        long min = -(1L << (bits - 1));
        long max = (1L << (bits - 1)) - 1;
        if (emit && (v < min || v > max)) {
            throw new IllegalArgumentException("immediate " + v + " does not fit in " + bits + " bits");
        }
        return v;
    }

    private long relative(String target, int bits) {
        long off = emit ? value(target, false) - pc : 0;
        if (emit && (off & 1) != 0) {
            throw new IllegalArgumentException("odd branch offset");
        }
        return checkImm(off, bits);
    }

    private int csr(String name) {
        Integer n = CSRS.get(name.toLowerCase(Locale.ROOT));
        return n != null ? n : (int) value(name, true);
    }

    // ---- encodings --------------------------------------------------------------------------

    private void r(int f7, int rs2, int rs1, int f3, int rd, int opc) {
        word(f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc);
    }

    private void i(long imm, int rs1, int f3, int rd, int opc) {
        word((int) (checkImm(imm, 12) & 0xFFF) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc);
    }

    private void s(long imm, int rs2, int rs1, int f3) {
        int v = (int) imm;
        word((v >> 5 & 0x7F) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (v & 0x1F) << 7 | 0x23);
    }

    private void b(long off, int rs2, int rs1, int f3) {
        int v = (int) off;
        word((v >> 12 & 1) << 31 | (v >> 5 & 0x3F) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12
                | (v >> 1 & 0xF) << 8 | (v >> 11 & 1) << 7 | 0x63);
    }

    private void u(long imm20, int rd, int opc) {
        word((int) (imm20 & 0xFFFFF) << 12 | rd << 7 | opc);
    }

    private void jal(int rd, long off) {
        int v = (int) off;
        word((v >> 20 & 1) << 31 | (v >> 1 & 0x3FF) << 21 | (v >> 11 & 1) << 20 | (v >> 12 & 0xFF) << 12
                | rd << 7 | 0x6F);
    }

    private static final Map<String, Integer> BRANCH = Map.of("beq", 0, "bne", 1, "blt", 4, "bge", 5, "bltu", 6,
            "bgeu", 7);
    private static final Map<String, Integer> LOAD = Map.of("lb", 0, "lh", 1, "lw", 2, "ld", 3, "lbu", 4, "lhu", 5,
            "lwu", 6);
    private static final Map<String, Integer> STORE = Map.of("sb", 0, "sh", 1, "sw", 2, "sd", 3);
    private static final Map<String, Integer> OPIMM = Map.of("addi", 0, "slti", 2, "sltiu", 3, "xori", 4, "ori", 6,
            "andi", 7);
    /** R-type: funct7 << 3 | funct3, opcode 0x33 (or 0x3B for the W forms). */
    private static final Map<String, Integer> OP = Map.ofEntries(
            Map.entry("add", 0), Map.entry("sub", 0x20 << 3), Map.entry("sll", 1), Map.entry("slt", 2),
            Map.entry("sltu", 3), Map.entry("xor", 4), Map.entry("srl", 5), Map.entry("sra", 0x20 << 3 | 5),
            Map.entry("or", 6), Map.entry("and", 7), Map.entry("mul", 1 << 3), Map.entry("mulh", 1 << 3 | 1),
            Map.entry("mulhsu", 1 << 3 | 2), Map.entry("mulhu", 1 << 3 | 3), Map.entry("div", 1 << 3 | 4),
            Map.entry("divu", 1 << 3 | 5), Map.entry("rem", 1 << 3 | 6), Map.entry("remu", 1 << 3 | 7));
    private static final Map<String, Integer> OPW = Map.of("addw", 0, "subw", 0x20 << 3, "sllw", 1, "srlw", 5,
            "sraw", 0x20 << 3 | 5, "mulw", 1 << 3, "divw", 1 << 3 | 4, "divuw", 1 << 3 | 5, "remw", 1 << 3 | 6,
            "remuw", 1 << 3 | 7);
    private static final Map<String, Integer> CSROP = Map.of("csrrw", 1, "csrrs", 2, "csrrc", 3, "csrrwi", 5,
            "csrrsi", 6, "csrrci", 7);

    private void instruction(String m, String[] o) {
        if (BRANCH.containsKey(m)) {
            need(o, 3);
            b(relative(o[2], 13), reg(o[1]), reg(o[0]), BRANCH.get(m));
        } else if (LOAD.containsKey(m)) {
            need(o, 2);
            int[] a = memOperand(o[1]);
            i(a[1], a[0], LOAD.get(m), reg(o[0]), 0x03);
        } else if (STORE.containsKey(m)) {
            need(o, 2);
            int[] a = memOperand(o[1]);
            s(a[1], reg(o[0]), a[0], STORE.get(m));
        } else if (OPIMM.containsKey(m)) {
            need(o, 3);
            i(value(o[2], false), reg(o[1]), OPIMM.get(m), reg(o[0]), 0x13);
        } else if (OP.containsKey(m)) {
            need(o, 3);
            int f = OP.get(m);
            r(f >> 3, reg(o[2]), reg(o[1]), f & 7, reg(o[0]), 0x33);
        } else if (OPW.containsKey(m)) {
            need(o, 3);
            int f = OPW.get(m);
            r(f >> 3, reg(o[2]), reg(o[1]), f & 7, reg(o[0]), 0x3B);
        } else if (CSROP.containsKey(m)) {
            need(o, 3);
            int f3 = CSROP.get(m);
            int src = f3 >= 5 ? (int) checkUnsigned(value(o[2], false), 5) : reg(o[2]);
            word(csr(o[1]) << 20 | src << 15 | f3 << 12 | reg(o[0]) << 7 | 0x73);
        } else {
            other(m, o);
        }
    }

    private long checkUnsigned(long v, int bits) {
        if (emit && (v < 0 || v >= 1L << bits)) {
            throw new IllegalArgumentException("value " + v + " does not fit in " + bits + " unsigned bits");
        }
        return v;
    }

    private void other(String m, String[] o) {
        switch (m) {
            case "lui", "auipc" -> {
                need(o, 2);
                u(value(o[1], false), reg(o[0]), m.equals("lui") ? 0x37 : 0x17);
            }
            case "jal" -> {
                if (o.length == 1) {
                    jal(1, relative(o[0], 21));
                } else {
                    need(o, 2);
                    jal(reg(o[0]), relative(o[1], 21));
                }
            }
            case "jalr" -> {
                if (o.length == 1) {
                    i(0, reg(o[0]), 0, 1, 0x67);
                } else {
                    need(o, 2);
                    int[] a = memOperand(o[1]);
                    i(a[1], a[0], 0, reg(o[0]), 0x67);
                }
            }
            case "slli", "srli", "srai" -> {
                need(o, 3);
                long sh = checkUnsigned(value(o[2], false), 6);
                int f3 = m.equals("slli") ? 1 : 5;
                int hi = m.equals("srai") ? 0x400 : 0;
                i(hi | sh, reg(o[1]), f3, reg(o[0]), 0x13, true);
            }
            case "slliw", "srliw", "sraiw" -> {
                need(o, 3);
                long sh = checkUnsigned(value(o[2], false), 5);
                int f3 = m.equals("slliw") ? 1 : 5;
                int hi = m.equals("sraiw") ? 0x400 : 0;
                i(hi | sh, reg(o[1]), f3, reg(o[0]), 0x1B, true);
            }
            case "addiw" -> {
                need(o, 3);
                i(value(o[2], false), reg(o[1]), 0, reg(o[0]), 0x1B);
            }
            case "ecall" -> word(0x00000073);
            case "ebreak" -> word(0x00100073);
            case "mret" -> word(0x30200073);
            case "wfi" -> word(0x10500073);
            case "fence" -> word(0x0FF0000F);
            case "fence.i" -> word(0x0000100F);
            default -> pseudo(m, o);
        }
    }

    /** An I-type word whose immediate field is already encoded (shifts carry funct7 in it). */
    private void i(long field, int rs1, int f3, int rd, int opc, boolean raw) {
        word((int) (field & 0xFFF) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc);
    }

    private void pseudo(String m, String[] o) {
        switch (m) {
            case "nop" -> i(0, 0, 0, 0, 0x13);
            case "li" -> {
                need(o, 2);
                li(reg(o[0]), value(o[1], true));
            }
            case "la" -> {
                need(o, 2);
                long off = emit ? value(o[1], false) - pc : 0;
                long lo = off << 52 >> 52;
                long hi = (off - lo) >> 12;
                if (emit && (hi < -(1L << 19) || hi >= 1L << 19)) {
                    throw new IllegalArgumentException("la target out of range");
                }
                int rd = reg(o[0]);
                u(hi, rd, 0x17);
                i(lo, rd, 0, rd, 0x13);
            }
            case "mv" -> {
                need(o, 2);
                i(0, reg(o[1]), 0, reg(o[0]), 0x13);
            }
            case "not" -> {
                need(o, 2);
                i(-1, reg(o[1]), 4, reg(o[0]), 0x13);
            }
            case "neg" -> {
                need(o, 2);
                r(0x20, reg(o[1]), 0, 0, reg(o[0]), 0x33);
            }
            case "seqz" -> {
                need(o, 2);
                i(1, reg(o[1]), 3, reg(o[0]), 0x13);
            }
            case "snez" -> {
                need(o, 2);
                r(0, reg(o[1]), 0, 3, reg(o[0]), 0x33);
            }
            case "j" -> {
                need(o, 1);
                jal(0, relative(o[0], 21));
            }
            case "call" -> {
                need(o, 1);
                jal(1, relative(o[0], 21));
            }
            case "jr" -> {
                need(o, 1);
                i(0, reg(o[0]), 0, 0, 0x67);
            }
            case "ret" -> i(0, 1, 0, 0, 0x67);
            case "beqz", "bnez", "bltz", "bgez" -> {
                need(o, 2);
                int f3 = BRANCH.get(m.substring(0, 3).replace("bge", "bge").replace("blt", "blt"));
                b(relative(o[1], 13), 0, reg(o[0]), f3);
            }
            case "blez" -> {
                need(o, 2);
                b(relative(o[1], 13), reg(o[0]), 0, 5); // bge zero, rs
            }
            case "bgtz" -> {
                need(o, 2);
                b(relative(o[1], 13), reg(o[0]), 0, 4); // blt zero, rs
            }
            case "bgt", "ble", "bgtu", "bleu" -> {
                need(o, 3);
                int f3 = switch (m) {
                    case "bgt" -> 4;
                    case "ble" -> 5;
                    case "bgtu" -> 6;
                    default -> 7;
                };
                b(relative(o[2], 13), reg(o[0]), reg(o[1]), f3); // operands swapped
            }
            case "csrr" -> {
                need(o, 2);
                word(csr(o[1]) << 20 | 2 << 12 | reg(o[0]) << 7 | 0x73);
            }
            case "csrw", "csrs", "csrc" -> {
                need(o, 2);
                int f3 = m.equals("csrw") ? 1 : m.equals("csrs") ? 2 : 3;
                word(csr(o[0]) << 20 | reg(o[1]) << 15 | f3 << 12 | 0x73);
            }
            default -> throw new IllegalArgumentException("unknown instruction '" + m + "'");
        }
    }

    /** Loads any 64-bit constant: addi, lui+addiw, or a shorter constant shifted left plus an addi. */
    private void li(int rd, long v) {
        if (v >= -2048 && v < 2048) {
            i(v, 0, 0, rd, 0x13);
        } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            long hi = ((v + 0x800) >> 12) & 0xFFFFF;
            long lo = v << 52 >> 52;
            u(hi, rd, 0x37);
            if (lo != 0) {
                i(lo, rd, 0, rd, 0x1B);
            }
        } else {
            long lo = v << 52 >> 52;
            long hi = (v - lo) >> 12;
            int shift = 12 + Long.numberOfTrailingZeros(hi);
            li(rd, hi >> (shift - 12));
            i(shift, rd, 1, rd, 0x13, true);
            if (lo != 0) {
                i(lo, rd, 0, rd, 0x13);
            }
        }
    }
}
