package io.godwit.api.cpu;

import java.util.List;
import java.util.Objects;

/**
 * What a workload's oracle found in guest memory.
 *
 * @param pagesChecked pages the oracle looked at
 * @param badPages pages no correct run could have left
 * @param examples up to a few bad pages, described (address, expected, found)
 * @param summary one line, for example {@code 524288 pages, 2 ranges, each with one edge}
 */
public record OracleVerdict(long pagesChecked, long badPages, List<String> examples, String summary) {

    public OracleVerdict {
        Objects.requireNonNull(summary, "summary");
        examples = List.copyOf(examples);
        if (pagesChecked < 0 || badPages < 0) {
            throw new IllegalArgumentException("counts must not be negative");
        }
    }

    /** True when no page is bad. */
    public boolean clean() {
        return badPages == 0;
    }
}
