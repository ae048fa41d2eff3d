package bloom4j.tensor.pickle;

import bloom4j.tensor.io.CheckpointException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class UnpicklerTest {
    static final Path FILE = Path.of("test.pkl");

    /** Allows test.Opaque (recorded), test.Value (value only) and test.twice (called: doubles an int); persistent ids echo. */
    static final Unpickler.Environment ENV = new Unpickler.Environment() {
        @Override public Unpickler.GlobalKind kind(String module, String name) {
            if (!module.equals("test")) return null;
            return switch (name) {
                case "Opaque" -> Unpickler.GlobalKind.OPAQUE;
                case "Value" -> Unpickler.GlobalKind.VALUE;
                case "twice" -> Unpickler.GlobalKind.CALLABLE;
                default -> null;
            };
        }

        @Override public Object call(PyGlobal function, PyTuple args) { return 2 * (Long) args.get(0); }

        @Override public Object persistentLoad(Object pid) { return List.of("pid", pid); }
    };

    static Object load(PickleBytes p) throws CheckpointException { return Unpickler.load(p.bytes(), FILE, ENV); }

    static CheckpointException refused(PickleBytes p) {
        return assertThrows(CheckpointException.class, () -> load(p));
    }

    @Test
    void scalars() throws Exception {
        assertNull(load(PickleBytes.proto2().none().stop()));
        assertEquals(true, load(PickleBytes.proto2().bool(true).stop()));
        assertEquals(false, load(PickleBytes.proto2().bool(false).stop()));
        assertEquals(255L, load(PickleBytes.proto2().integer(255).stop()));
        assertEquals(65535L, load(PickleBytes.proto2().integer(65535).stop()));
        assertEquals(-7L, load(PickleBytes.proto2().integer(-7).stop()));
        assertEquals(3_000_000_000L, load(PickleBytes.proto2().integer(3_000_000_000L).stop()));
        assertEquals(Long.MIN_VALUE, load(PickleBytes.proto2().integer(Long.MIN_VALUE).stop()));
        BigInteger big = BigInteger.TWO.pow(70).negate().add(BigInteger.ONE);
        assertEquals(big, load(PickleBytes.proto2().bigInt(big).stop()));
        assertEquals(0L, load(PickleBytes.proto2().op(0x8a, 0).stop()), "LONG1 of no bytes is 0");
        assertEquals(BigInteger.TWO.pow(63), load(PickleBytes.proto2().op(0x8b).u32(9).op(0, 0, 0, 0, 0, 0, 0, 0x80, 0).stop()));
        assertEquals(-0.0, load(PickleBytes.proto2().flt(-0.0).stop()));
        assertEquals(1e-8, load(PickleBytes.proto2().flt(1e-8).stop()));
        assertEquals("héllo ✓", load(PickleBytes.proto2().str("héllo ✓").stop()));
        assertEquals("ab", load(PickleBytes.proto2().op('U', 2, 'a', 'b').stop()));
        assertEquals("x", load(PickleBytes.proto2().op(0x8d).u64(1).op('x').stop()));
    }

    @Test
    void bytesInEveryEncoding() throws Exception {
        byte[] want = {0, 1, (byte) 0xFF};
        Object proto2 = load(PickleBytes.proto2().global("_codecs", "encode").str("\u0000\u0001\u00ff").str("latin1")
                .op(0x86).reduce().stop());
        assertArrayEquals(want, (byte[]) proto2);
        assertArrayEquals(new byte[0], (byte[]) load(PickleBytes.proto2().global("__builtin__", "bytes").emptyTuple().reduce().stop()));
        assertArrayEquals(want, (byte[]) load(PickleBytes.raw().op('C', 3, 0, 1, 0xFF).stop()));
        assertArrayEquals(want, (byte[]) load(PickleBytes.raw().op('B').u32(3).op(0, 1, 0xFF).stop()));
        assertArrayEquals(want, (byte[]) load(PickleBytes.raw().op(0x8e).u64(3).op(0, 1, 0xFF).stop()));
        CheckpointException e = refused(PickleBytes.proto2().global("_codecs", "encode").str("x").str("rot13").op(0x86).reduce().stop());
        assertTrue(e.getMessage().contains("rot13"), e.getMessage());
    }

    @Test
    void containersKeepOrderAndTypes() throws Exception {
        // {'b': [1, (2,), None], 3: {}, ('k', 1): set(), 'a': frozenset({5})}
        Object o = load(PickleBytes.proto2().emptyDict().put(0).mark()
                .str("b").emptyList().mark().integer(1).integer(2).op(0x85).none().appends()
                .integer(3).emptyDict()
                .str("k").integer(1).op(0x86).op(0x8f)
                .str("a").mark().integer(5).op(0x91)
                .setItems().stop());
        Map<?, ?> m = assertInstanceOf(LinkedHashMap.class, o);
        assertEquals(Arrays.asList("b", 3L, PyTuple.of("k", 1L), "a"), new ArrayList<>(m.keySet()));
        assertEquals(Arrays.asList(1L, PyTuple.of(2L), null), m.get("b"));
        assertEquals(Map.of(), m.get(3L));
        assertEquals(Set.of(), m.get(PyTuple.of("k", 1L)));
        assertEquals(Set.of(5L), m.get("a"));
        assertInstanceOf(LinkedHashSet.class, m.get("a"));
    }

    @Test
    void protocol4OpcodesAndMemo() throws Exception {
        // FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL, DICT, LIST, ADDITEMS, DUP, POP, POP_MARK, LONG_BINPUT/LONG_BINGET
        PickleBytes p = PickleBytes.raw().op(0x80, 4).op(0x95).u64(100)
                .shortStr("collections").op(0x94).shortStr("OrderedDict").op(0x94).op(0x93).op(0x94).emptyTuple().reduce().op(0x94)
                .mark().shortStr("x").mark().integer(1).integer(2).op('l').op(0x94).setItems()
                .mark().str("junk").op('1')                        // POP_MARK discards
                .str("junk").op('0')                               // POP discards
                .mark().op('0')                                    // POP of an empty segment discards its mark
                .op('r').u32(1000).op('j').u32(1000).op('0')       // LONG_BINPUT/GET round trip, then discard the copy
                .op('2').op('0')                                   // DUP, POP
                .mark().shortStr("y").op(0x8f).mark().integer(7).op(0x90).op('d')
                .op(0x86).stop();
        PyTuple t = assertInstanceOf(PyTuple.class, load(p));
        PyOrderedDict od = assertInstanceOf(PyOrderedDict.class, t.get(0));
        assertEquals(List.of(1L, 2L), od.get("x"));
        assertEquals(Map.of("y", Set.of(7L)), t.get(1));
    }

    @Test
    void memoSharesReferences() throws Exception {
        Object o = load(PickleBytes.proto2().emptyList().put(1).emptyDict().put(2).op('a').get(2).op('a').stop());
        List<?> l = (List<?>) o;
        assertSame(l.get(0), l.get(1));
    }

    @Test
    void orderedDictBuildSetsAttributesNotItems() throws Exception {
        // OrderedDict([('w', 1)]) with _metadata = OrderedDict([('', {'version': 1})]), as a module's state_dict() pickles
        Object o = load(PickleBytes.proto2().orderedDict().put(0).mark().str("w").integer(1).setItems()
                .emptyDict().str("_metadata").orderedDict().mark().str("").emptyDict().str("version").integer(1).setItem()
                .setItems().setItem().build().stop());
        PyOrderedDict od = assertInstanceOf(PyOrderedDict.class, o);
        assertEquals(Map.of("w", 1L), od);
        assertEquals(Map.of("", Map.of("version", 1L)), od.attributes().get("_metadata"));
    }

    @Test
    void defaultdictIsADict() throws Exception {
        Object o = load(PickleBytes.proto2().global("collections", "defaultdict").global("__builtin__", "list").op(0x85).reduce()
                .str("k").integer(1).setItem().stop());
        assertEquals(Map.of("k", 1L), assertInstanceOf(LinkedHashMap.class, o));
    }

    @Test
    void opaqueClassesAreRecordedNotConstructed() throws Exception {
        Object o = load(PickleBytes.proto2().global("test", "Opaque").mark().integer(1).tuple().op(0x81)
                .emptyDict().str("a").integer(2).setItem().build()
                .str("k").str("v").setItem().integer(9).op('a').stop());
        PyObject p = assertInstanceOf(PyObject.class, o);
        assertEquals(new PyGlobal("test", "Opaque"), p.type());
        assertEquals(PyTuple.of(1L), p.args());
        assertEquals(Map.of("a", 2L), p.attributes());
        assertEquals(Map.of("k", "v"), p.dictItems());
        assertEquals(List.of(9L), p.listItems());

        Object ex = load(PickleBytes.raw().op(0x80, 4).global("test", "Opaque").emptyTuple().emptyDict().str("x").integer(1)
                .setItem().op(0x92).stop());
        assertEquals(Map.of("x", 1L), ((PyObject) ex).kwargs());

        assertEquals(new PyGlobal("test", "Value"), load(PickleBytes.proto2().global("test", "Value").stop()));
        CheckpointException e = refused(PickleBytes.proto2().global("test", "Value").emptyTuple().reduce().stop());
        assertTrue(e.getMessage().contains("test.Value is not callable"), e.getMessage());
        assertEquals(42L, load(PickleBytes.proto2().global("test", "twice").integer(21).op(0x85).reduce().stop()));
        assertEquals(List.of("pid", "k"), load(PickleBytes.proto2().str("k").op('Q').stop()));
    }

    @ParameterizedTest
    @CsvSource({"posix,system", "os,system", "builtins,eval", "__builtin__,eval", "subprocess,Popen", "builtins,exec",
            "builtins,getattr", "torch,load", "numpy.core.multiarray,_reconstruct", "collections,namedtuple"})
    void forbiddenGlobalsAreRefusedEvenUncalled(String module, String name) {
        String q = (module.equals("__builtin__") ? "builtins" : module) + "." + name;
        CheckpointException called = refused(PickleBytes.proto2().global(module, name).str("touch /tmp/pwned").op(0x85).reduce().stop());
        assertTrue(called.getMessage().contains("refused pickle global " + q), called.getMessage());
        assertTrue(called.getMessage().startsWith(FILE.toString()), called.getMessage());
        assertEquals(FILE, called.file());
        CheckpointException uncalled = refused(PickleBytes.proto2().global(module, name).op('0').none().stop());
        assertTrue(uncalled.getMessage().contains("refused pickle global " + q), uncalled.getMessage());
        CheckpointException stack = refused(PickleBytes.raw().op(0x80, 4).shortStr(module).shortStr(name).op(0x93).stop());
        assertTrue(stack.getMessage().contains("refused pickle global " + q), stack.getMessage());
    }

    @Test
    void malformedPicklesAreCheckpointExceptions() {
        String[][] cases = {
                {"stack underflow", "\u0080\u0002."},
                {"stack underflow", "\u0080\u0002(."},
                {"no MARK", "\u0080\u0002t."},
                {"never stored", "\u0080\u0002h\u0005."},
                {"without a STOP", "\u0080\u0002N"},
                {"opcode 0xff", "\u0080\u0002\u00ff"},
                {"unsupported pickle opcode 0x49", "\u0080\u0002I1\n."},  // protocol-0 INT is not accepted
                {"protocol 9", "\u0080\u0009N."},
                {"truncated", "\u0080\u0002X\u00ff\u00ff\u00ff\u007f"},
                {"truncated", "\u0080\u0002K"},
                {"truncated", "\u0080\u0002\u008b\u0000\u0000\u0000\u0070"},
                {"GLOBAL name without end of line", "\u0080\u0002ctest\nOpa"},
                {"unhashable list", "\u0080\u0002}]Ns."},
                {"unhashable dict", "\u0080\u0002\u008f(}\u0090."},
                {"odd number", "\u0080\u0002}(Nu."},
                {"APPEND to a dict", "\u0080\u0002}Na."},
                {"SETITEM on a list", "\u0080\u0002]NNs."},
                {"not a tuple", "\u0080\u0002ctest\ntwice\nNR."},
                {"cannot call a str", "\u0080\u0002X\u0001\u0000\u0000\u0000x)R."},
                {"BUILD on a list", "\u0080\u0002]Nb."},
                {"negative length", "\u0080\u0002\u008b\u00ff\u00ff\u00ff\u00ff."},
        };
        for (String[] c : cases) {
            byte[] b = new byte[c[1].length()];
            for (int i = 0; i < b.length; i++) b[i] = (byte) c[1].charAt(i);
            CheckpointException e = assertThrows(CheckpointException.class, () -> Unpickler.load(b, FILE, ENV), c[0]);
            assertTrue(e.getMessage().contains(c[0]), c[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void deeplyNestedTupleKeysAreRefusedNotStackOverflow() {
        PickleBytes p = PickleBytes.proto2().emptyDict().none();
        for (int i = 0; i < 100_000; i++) p.op(0x85);
        CheckpointException e = refused(p.none().setItem().stop());
        assertTrue(e.getMessage().contains("nested deeper"), e.getMessage());
    }

    @Test
    void theNumberOfValuesAPickleMayCreateIsCapped() {
        byte[] b = new byte[(int) Unpickler.MAX_ITEMS + 2];
        Arrays.fill(b, (byte) 'N'); // one pushed None per byte
        b[b.length - 1] = '.';
        CheckpointException e = assertThrows(CheckpointException.class, () -> Unpickler.load(b, FILE, ENV));
        assertTrue(e.getMessage().contains("more than " + Unpickler.MAX_ITEMS + " values"), e.getMessage());
    }

    @Test
    void randomBytesNeverEscapeAsUncheckedExceptions() {
        Random r = new Random(1234);
        byte[] base = PickleBytes.proto2().orderedDict().mark().str("w").global("test", "Opaque").mark().integer(1).flt(2.5)
                .tuple().op(0x81).str("x").emptyList().mark().integer(300).integer(-5).none().appends().setItems().stop().bytes();
        for (int trial = 0; trial < 20_000; trial++) {
            byte[] b = trial % 2 == 0 ? base.clone() : new byte[1 + r.nextInt(64)];
            if (trial % 2 == 0) {
                for (int k = 1 + r.nextInt(3); k > 0; k--) b[r.nextInt(b.length)] = (byte) r.nextInt(256);
            } else {
                r.nextBytes(b);
            }
            try {
                Unpickler.load(b, FILE, ENV);
            } catch (CheckpointException expected) {
                // fine: reported as a bad file
            } catch (RuntimeException | Error e) {
                fail("trial " + trial + " " + Arrays.toString(b) + " threw " + e);
            }
        }
    }
}
