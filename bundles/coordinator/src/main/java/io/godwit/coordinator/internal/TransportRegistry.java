package io.godwit.coordinator.internal;

import io.godwit.api.transport.Transport;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.osgi.framework.Constants;

/**
 * The transports by scheme. Several services may declare one scheme (a dropped bundle declaring
 * {@code tcp}, say): the one used is the highest {@code service.ranking}, then the lowest
 * {@code service.id} (the one registered first), as OSGi picks a service; the others wait behind it
 * and take over when it goes away, so a bundle removed never leaves a scheme unknown while another
 * bundle still offers it. Called from the DS thread that binds and unbinds transports and from the
 * shell's threads; every method holds the registry's lock.
 */
final class TransportRegistry {

    private record Entry(Transport transport, int ranking, long id) {}

    private static final Comparator<Entry> ORDER =
            Comparator.comparingInt((Entry e) -> -e.ranking()).thenComparingLong(Entry::id);

    private final Map<String, List<Entry>> byScheme = new HashMap<>();
    /** Orders services without a service.id (unit tests) by arrival, after any that have one. */
    private long arrivals = Long.MAX_VALUE / 2;

    synchronized void add(String scheme, Transport t, Map<String, Object> props) {
        int ranking = props.get(Constants.SERVICE_RANKING) instanceof Integer r ? r : 0;
        long id = props.get(Constants.SERVICE_ID) instanceof Long l ? l : arrivals++;
        List<Entry> list = byScheme.computeIfAbsent(scheme, s -> new ArrayList<>());
        list.add(new Entry(t, ranking, id));
        list.sort(ORDER);
    }

    /** Removes {@code t} from {@code scheme}; true when it was there. */
    synchronized boolean remove(String scheme, Transport t) {
        List<Entry> list = byScheme.get(scheme);
        if (list == null || !list.removeIf(e -> e.transport() == t)) {
            return false;
        }
        if (list.isEmpty()) {
            byScheme.remove(scheme);
        }
        return true;
    }

    /** The transport used for {@code scheme}, or null. */
    synchronized Transport get(String scheme) {
        List<Entry> list = byScheme.get(scheme);
        return list == null ? null : list.get(0).transport();
    }

    /** Each scheme and the transport used for it, sorted by scheme. */
    synchronized Map<String, Transport> active() {
        Map<String, Transport> m = new TreeMap<>();
        byScheme.forEach((s, list) -> m.put(s, list.get(0).transport()));
        return m;
    }
}
