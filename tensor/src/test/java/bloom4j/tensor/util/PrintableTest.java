package bloom4j.tensor.util;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class PrintableTest {
    @Test void escapesControlAndBidiCharactersOnly() {
        String plain = "model.layers.0.self_attn.q_proj.weight さくら";
        assertSame(plain, Printable.escape(plain), "ordinary text is returned as is");
        assertEquals("a\\u001b[31mb", Printable.escape("a\u001b[31mb"));
        assertEquals("x\\ny\\tz\\\\w", Printable.escape("x\ny\tz\\w"));
        assertEquals("\\u007f\\u0085\\u202e\\u2066", Printable.escape("\u007f\u0085\u202e\u2066"));
    }
}
