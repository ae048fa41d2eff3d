package bloom4j.train.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SplitTest {
    @TempDir Path tmp;

    Path jsonl(int n) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append("{\"idx\": \"").append(i % 2 == 0 ? "jazz" : "enka").append("_s").append(i).append("\"}\n");
        Path p = tmp.resolve("all.jsonl");
        Files.writeString(p, b.toString());
        return p;
    }

    @Test
    void seededDisjointOrderKeepingAndComplete() throws Exception {
        Path in = jsonl(50);
        Split.Result a = Split.run(in, tmp.resolve("a"), 0.1, 1234, Set.of());
        Split.Result b = Split.run(in, tmp.resolve("b"), 0.1, 1234, Set.of());
        Split.Result c = Split.run(in, tmp.resolve("c"), 0.1, 99, Set.of());
        assertEquals(45, a.trainLines());
        assertEquals(5, a.valLines());
        assertEquals(a.valSha256(), b.valSha256(), "same seed, same split");
        assertNotEquals(a.valSha256(), c.valSha256(), "another seed, another split");
        List<String> all = new ArrayList<>(Files.readAllLines(a.train()));
        all.addAll(Files.readAllLines(a.val()));
        assertEquals(50, all.size());
        assertEquals(50, Set.copyOf(all).size());
        List<String> train = Files.readAllLines(a.train());
        List<String> orig = Files.readAllLines(in);
        assertEquals(orig.stream().filter(train::contains).toList(), train, "input order kept");
    }

    @Test
    void wholeSubsetsHeldOutAndBadInputNamed() throws Exception {
        Path in = jsonl(10);
        Split.Result r = Split.run(in, tmp, 0.0, 1, Set.of("enka"));
        assertEquals(5, r.valLines());
        assertTrue(Files.readAllLines(r.val()).stream().allMatch(l -> l.contains("enka_")));
        assertThrows(IllegalArgumentException.class, () -> Split.run(in, tmp, 0.1, 1, Set.of("punk")));
        Files.writeString(tmp.resolve("bad.jsonl"), "{\"idx\": \"a\"}\n{\"idx\": 3}\n{\"idx\": \"a\"}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Split.run(tmp.resolve("bad.jsonl"), tmp, 0.1, 1, Set.of()));
        assertTrue(e.getMessage().contains("line 2: expected a JSON object with a string 'idx'")
                && e.getMessage().contains("line 3: idx 'a' repeats"), e.getMessage());
    }
}
