package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.Floats;
import bloom4j.tensor.pickle.PickleBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Synthetic archives: security, zip layout variants, byte order, and bad input of every kind. */
class PtCheckpointTest {
    @TempDir Path tmp;

    static final float[] W = {1.5f, -2f, 3.25f, 0f, -0f, 7f};

    static byte[] le(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    /** OrderedDict {'w': FloatStorage '0' viewed as [2, 3]} as torch.save pickles it. */
    static PickleBytes stateDictPickle() {
        return PickleBytes.proto2().orderedDict().mark().str("w")
                .tensorV2("FloatStorage", "0", 6, 0, new long[]{2, 3}, new long[]{3, 1}).setItems();
    }

    /** A torch 2.x style archive: data.pkl, format records, byteorder, storages, version and serialization id last. */
    static TorchZipWriter torchZip(String root, byte[] pickle, String byteorder, byte[]... storages) {
        TorchZipWriter z = new TorchZipWriter().add(root + "/data.pkl", pickle).add(root + "/.format_version", "1")
                .add(root + "/.storage_alignment", "64").add(root + "/byteorder", byteorder);
        for (int i = 0; i < storages.length; i++) z.add(root + "/data/" + i, storages[i]);
        return z.add(root + "/version", "3\n").add(root + "/.data/serialization_id", "1234567890");
    }

    Path write(TorchZipWriter z, String name) throws IOException {
        Path p = tmp.resolve(name);
        z.write(p);
        return p;
    }

    CheckpointException refusedToOpen(Path p) {
        return assertThrows(CheckpointException.class, () -> PtCheckpoint.open(p).close());
    }

    @Test
    void rootFolderComesFromTheArchiveAndUnknownRecordsAreIgnored() throws Exception {
        Path p = write(torchZip("my.model-v2", stateDictPickle().stop().bytes(), "little", le(W)), "x.pt");
        try (PtCheckpoint c = PtCheckpoint.open(p)) {
            assertEquals("my.model-v2/", c.archiveRoot());
            RawTensor t = c.stateDict().raw("w");
            assertArrayEquals(new long[]{2, 3}, t.shape());
            for (int i = 0; i < 6; i++) assertEquals(Float.floatToRawIntBits(W[i]), Float.floatToRawIntBits(t.bytes().getFloat(4 * i)));
        }
    }

    @ParameterizedTest
    @CsvSource({"posix,system", "os,system", "builtins,eval", "__builtin__,eval", "subprocess,Popen", "nt,system"})
    void maliciousPickleInsideAValidArchiveIsRefusedAndNothingRuns(String module, String name) throws Exception {
        Path marker = tmp.resolve("pwned");
        // a valid tensor first, then the payload inside the same state dict
        byte[] pkl = PickleBytes.proto2().orderedDict().mark().str("w")
                .tensorV2("FloatStorage", "0", 6, 0, new long[]{6}, new long[]{1})
                .str("x").global(module, name).str("touch " + marker).op(0x85).reduce().setItems().stop().bytes();
        Path p = write(torchZip("archive", pkl, "little", le(W)), "evil.pt");
        CheckpointException e = refusedToOpen(p);
        String q = (module.equals("__builtin__") ? "builtins" : module) + "." + name;
        assertTrue(e.getMessage().contains("refused pickle global " + q), e.getMessage());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        assertEquals(p, e.file());
        assertFalse(Files.exists(marker));
    }

    @Test
    void aForbiddenGlobalIsRefusedEvenIfNeverCalled() throws Exception {
        byte[] pkl = PickleBytes.proto2().global("os", "system").op('0').orderedDict().stop().bytes();
        CheckpointException e = refusedToOpen(write(torchZip("archive", pkl, "little"), "evil.pt"));
        assertTrue(e.getMessage().contains("refused pickle global os.system"), e.getMessage());
    }

    @Test
    void storagesBeyondFourGigabytesInAZip64Archive() throws Exception {
        long[] big = {Long.MIN_VALUE, -1, 0, 1L << 40};
        ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : big) b.putLong(v);
        byte[] pkl = PickleBytes.proto2().orderedDict().mark()
                .str("w").tensorV2("FloatStorage", "0", 6, 0, new long[]{3, 2}, new long[]{1, 3})
                .str("i").tensorV2("LongStorage", "1", 4, 1, new long[]{3}, new long[]{1})
                .setItems().stop().bytes();
        TorchZipWriter z = new TorchZipWriter().zip64().add("archive/data.pkl", pkl)
                .gap(5L << 30).add("archive/data/0", le(W))
                .gap(1L << 30).add("archive/data/1", b.array()).add("archive/version", "3\n");
        Path p = write(z, "big.pt");
        assertTrue(Files.size(p) > 6L << 30);
        try (PtCheckpoint c = PtCheckpoint.open(p)) {
            RawTensor w = c.stateDict().raw("w"); // transposed view: gathered from the mapping past 5 GiB
            float[] want = {W[0], W[3], W[1], W[4], W[2], W[5]};
            for (int i = 0; i < 6; i++) assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(w.bytes().getFloat(4 * i)));
            RawTensor i64 = c.stateDict().raw("i");
            for (int i = 0; i < 3; i++) assertEquals(big[i + 1], i64.bytes().getLong(8 * i));
        }
    }

    @Test
    void aSingleStorageOver2GiBIsRefusedWhenRead() throws Exception {
        long numel = (5L << 29) / 4; // 640 Mi floats = 2.5 GiB
        byte[] pkl = PickleBytes.proto2().orderedDict().mark().str("w")
                .tensorV2("FloatStorage", "0", numel, 0, new long[]{2}, new long[]{1}).setItems().stop().bytes();
        TorchZipWriter z = new TorchZipWriter().zip64().add("archive/data.pkl", pkl).addSparse("archive/data/0", numel * 4)
                .add("archive/version", "3\n");
        try (PtCheckpoint c = PtCheckpoint.open(write(z, "huge.pt"))) {
            assertArrayEquals(new long[]{2}, c.stateDict().info("w").shape());
            CheckpointException e = assertThrows(CheckpointException.class, () -> c.stateDict().raw("w"));
            assertTrue(e.getMessage().contains("single records over 2 GiB are not supported"), e.getMessage());
        }
    }

    @Test
    void anExpandedViewTooLargeToCopyIsRefused() throws Exception {
        byte[] pkl = PickleBytes.proto2().orderedDict().mark().str("w")
                .tensorV2("FloatStorage", "0", 6, 0, new long[]{1L << 20, 1L << 20, 6}, new long[]{0, 0, 1}).setItems().stop().bytes();
        try (PtCheckpoint c = PtCheckpoint.open(write(torchZip("archive", pkl, "little", le(W)), "x.pt"))) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> c.stateDict().raw("w"));
            assertTrue(e.getMessage().contains("a strided copy over 2 GiB is not supported"), e.getMessage());
        }
    }

    @Test
    void aStrideZeroViewExpandingFarBeyondItsStorageIsRefusedUnlessAllowed() throws Exception {
        // 6 floats stored, viewed as [65536, 6] with stride 0: 1.5 MiB from 24 bytes
        byte[] pkl = PickleBytes.proto2().orderedDict().mark().str("w")
                .tensorV2("FloatStorage", "0", 6, 0, new long[]{65536, 6}, new long[]{0, 1}).setItems().stop().bytes();
        Path f = write(torchZip("archive", pkl, "little", le(W)), "expanded.pt");
        try (PtCheckpoint c = PtCheckpoint.open(f)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> c.stateDict().raw("w"));
            assertTrue(e.getMessage().contains("1,572,864 bytes over a storage of 24 bytes"), e.getMessage());
            assertTrue(e.getMessage().contains("--allow-expanded-views"), e.getMessage());
        }
        try (TensorSource s = Checkpoints.open(f)) {
            assertThrows(CheckpointException.class, () -> s.raw("w"));
        }
        try (TensorSource s = Checkpoints.open(f, true)) {
            float[] v = s.loadFloat("w").data().asFloat();
            assertEquals(65536 * 6, v.length);
            for (int r : new int[]{0, 1, 65535}) {
                for (int j = 0; j < 6; j++) assertEquals(Float.floatToIntBits(W[j]), Float.floatToIntBits(v[r * 6 + j]));
            }
        }
    }

    @Test
    void aSmallBroadcastViewIsReadWithoutAsking() throws Exception {
        // 100x expansion but only 2,400 bytes: under the floor, so it reads
        byte[] pkl = PickleBytes.proto2().orderedDict().mark().str("w")
                .tensorV2("FloatStorage", "0", 6, 0, new long[]{100, 6}, new long[]{0, 1}).setItems().stop().bytes();
        try (PtCheckpoint c = PtCheckpoint.open(write(torchZip("archive", pkl, "little", le(W)), "bcast.pt"))) {
            assertEquals(600, c.stateDict().raw("w").numel());
        }
    }

    @Test
    void corruptEndOfCentralDirectoryIsRefused() throws Exception {
        byte[] whole = Files.readAllBytes(PtFixtureTest.fixtureDir().resolve("model.pt"));
        int z64 = whole.length - 22 - 20 - 56; // torch writes a ZIP64 end record (and locator) even for small files
        assertEquals(0x06064b50, ByteBuffer.wrap(whole, z64, 4).order(ByteOrder.LITTLE_ENDIAN).getInt());
        byte[] manyEntries = whole.clone();
        manyEntries[z64 + 32 + 3] = (byte) 0x7F;
        assertTrue(refusedToOpen(Files.write(tmp.resolve("a.pt"), manyEntries)).getMessage().contains("entries cannot fit"));
        byte[] farDirectory = whole.clone();
        farDirectory[z64 + 48 + 4] = 1;
        assertTrue(refusedToOpen(Files.write(tmp.resolve("b.pt"), farDirectory)).getMessage().contains("lies outside the file"));
        byte[] negative = whole.clone();
        negative[z64 + 40 + 7] = (byte) 0x80;
        assertTrue(refusedToOpen(Files.write(tmp.resolve("c.pt"), negative)).getMessage().contains("lies outside the file"));
    }

    @Test
    void bigEndianArchivesAreSwappedOnRead() throws Exception {
        ByteBuffer f = ByteBuffer.allocate(24).order(ByteOrder.BIG_ENDIAN);
        for (float v : W) f.putFloat(v);
        ByteBuffer h = ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putShort(Floats.floatToF16(-2.5f)).putShort((short) 0x7C00);
        ByteBuffer l = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putLong(0x0102030405060708L);
        byte[] pkl = PickleBytes.proto2().orderedDict().mark()
                .str("f").tensorV2("FloatStorage", "0", 6, 0, new long[]{3, 2}, new long[]{1, 3})
                .str("h").tensorV2("HalfStorage", "1", 2, 0, new long[]{2}, new long[]{1})
                .str("l").tensorV2("LongStorage", "2", 1, 0, new long[]{}, new long[]{})
                .setItems().stop().bytes();
        try (PtCheckpoint c = PtCheckpoint.open(write(torchZip("archive", pkl, "big", f.array(), h.array(), l.array()), "be.pt"))) {
            assertTrue(c.bigEndian());
            TensorSource s = c.stateDict();
            float[] want = {W[0], W[3], W[1], W[4], W[2], W[5]};
            assertArrayEquals(want, s.loadFloat("f").data().asFloat());
            assertArrayEquals(new float[]{-2.5f, Float.POSITIVE_INFINITY}, s.loadFloat("h").toFloatVector());
            assertEquals(0x0102030405060708L, s.raw("l").bytes().getLong(0));
        }
    }

    @Test
    void unknownByteOrderIsRefused() throws Exception {
        CheckpointException e = refusedToOpen(write(torchZip("archive", stateDictPickle().stop().bytes(), "middle", le(W)), "x.pt"));
        assertTrue(e.getMessage().contains("unknown byteorder 'middle'"), e.getMessage());
    }

    @Test
    void compressedEntriesAreRefusedClearly() throws Exception {
        Path pkl = write(torchZip("archive", stateDictPickle().stop().bytes(), "little", le(W)).deflate("archive/data.pkl"), "c1.pt");
        CheckpointException e = refusedToOpen(pkl);
        assertTrue(e.getMessage().contains("'archive/data.pkl' is compressed (method 8)"), e.getMessage());
        Path storage = write(torchZip("archive", stateDictPickle().stop().bytes(), "little", le(W)).deflate("archive/data/0"), "c2.pt");
        e = refusedToOpen(storage);
        assertTrue(e.getMessage().contains("archive/data/0 is compressed"), e.getMessage());
    }

    @Test
    void legacyFormatIsRefusedWithAdvice() throws Exception {
        Path p = tmp.resolve("legacy.pt");
        byte[] head = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8,
                0x50, 0x19, 0x2e, (byte) 0x80, 0x02, 0x4d, (byte) 0xe9, 0x03, 0x2e};
        Files.write(p, head);
        CheckpointException e = refusedToOpen(p);
        assertTrue(e.getMessage().endsWith("legacy torch.save format (torch < 1.6): re-save with torch >= 1.6"), e.getMessage());
    }

    @Test
    void torchScriptArchivesAreNamedAsSuch() throws Exception {
        TorchZipWriter z = new TorchZipWriter().add("m/data.pkl", PickleBytes.proto2().none().stop().bytes())
                .add("m/code/__torch__.py", "def forward(self): ...").add("m/constants.pkl", PickleBytes.proto2().emptyTuple().stop().bytes());
        CheckpointException e = refusedToOpen(write(z, "script.pt"));
        assertTrue(e.getMessage().contains("TorchScript archive"), e.getMessage());
    }

    @Test
    void notACheckpoint() throws Exception {
        Path empty = Files.write(tmp.resolve("empty.pt"), new byte[0]);
        assertTrue(refusedToOpen(empty).getMessage().contains("empty file"));
        Path text = Files.writeString(tmp.resolve("text.pt"), "version https://git-lfs.github.com/spec/v1\n");
        assertTrue(refusedToOpen(text).getMessage().contains("no zip signature"));
        Path otherZip = write(new TorchZipWriter().add("readme.txt", "hi"), "other.zip");
        assertTrue(refusedToOpen(otherZip).getMessage().contains("without a <root>/data.pkl"));
        Path two = write(new TorchZipWriter().add("a/data.pkl", PickleBytes.proto2().none().stop().bytes())
                .add("b/data.pkl", PickleBytes.proto2().none().stop().bytes()), "two.pt");
        assertTrue(refusedToOpen(two).getMessage().contains("several data.pkl"));
    }

    @Test
    void storageRecordOfTheWrongSizeIsRefused() throws Exception {
        byte[] pkl = PickleBytes.proto2().orderedDict().mark().str("w")
                .tensorV2("FloatStorage", "0", 5, 0, new long[]{5}, new long[]{1}).setItems().stop().bytes();
        CheckpointException e = refusedToOpen(write(torchZip("archive", pkl, "little", le(W)), "x.pt"));
        assertTrue(e.getMessage().contains("storage record data/0 is 24 bytes, but the pickle declares 5 elements of F32 (20 bytes)"),
                e.getMessage());
    }

    @Test
    void missingStorageRecordIsRefused() throws Exception {
        CheckpointException e = refusedToOpen(write(torchZip("archive", stateDictPickle().stop().bytes(), "little"), "x.pt"));
        assertTrue(e.getMessage().contains("archive/data/0 is missing"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"offset", "stride", "size"})
    void viewsReachingPastTheirStorageAreRefused(String what) throws Exception {
        long offset = what.equals("offset") ? 1 : 0;
        long[] size = what.equals("size") ? new long[]{7} : new long[]{2, 3};
        long[] stride = what.equals("size") ? new long[]{1} : what.equals("stride") ? new long[]{4, 1} : new long[]{3, 1};
        byte[] pkl = PickleBytes.proto2().orderedDict().mark().str("w")
                .tensorV2("FloatStorage", "0", 6, offset, size, stride).setItems().stop().bytes();
        CheckpointException e = refusedToOpen(write(torchZip("archive", pkl, "little", le(W)), "x.pt"));
        assertTrue(e.getMessage().contains("on storage data/0 reaches element") && e.getMessage().contains("holds 6 elements"),
                e.getMessage());
    }

    @Test
    void rebuildV3OnUntypedStorageAndRebuildFromType() throws Exception {
        ByteBuffer bf = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : new float[]{1f, -2f, 0.5f}) bf.putShort(Floats.floatToBf16(v));
        PickleBytes p = PickleBytes.proto2().orderedDict().mark();
        // 'a': _rebuild_tensor_v3(UntypedStorage '0' of 6 bytes, 1, (2,), (1,), False, OrderedDict(), torch.bfloat16)
        p.str("a").global("torch._utils", "_rebuild_tensor_v3").mark().storage("UntypedStorage", "0", 6).integer(1)
                .mark().integer(2).tuple().mark().integer(1).tuple().bool(false).orderedDict().global("torch", "bfloat16").tuple().reduce();
        // 'b': _rebuild_from_type_v2(_rebuild_tensor_v2, torch.nn.parameter.Parameter, (storage '1', 0, (2,), (1,), True, OD()), {})
        p.str("b").global("torch._tensor", "_rebuild_from_type_v2").mark().global("torch._utils", "_rebuild_tensor_v2")
                .global("torch.nn.parameter", "Parameter").mark().storage("FloatStorage", "1", 2).integer(0)
                .mark().integer(2).tuple().mark().integer(1).tuple().bool(true).orderedDict().tuple().emptyDict().tuple().reduce();
        // 'c': _rebuild_parameter_with_state(<tensor on storage '1'>, False, OD(), {})
        p.str("c").global("torch._utils", "_rebuild_parameter_with_state").mark()
                .tensorV2("FloatStorage", "1", 2, 1, new long[]{}, new long[]{}).bool(false).orderedDict().emptyDict().tuple().reduce();
        byte[] pkl = p.setItems().stop().bytes();
        try (PtCheckpoint c = PtCheckpoint.open(write(torchZip("archive", pkl, "little", bf.array(), le(8f, 9f)), "v3.pt"))) {
            Map<String, PtTensor> t = c.flatten();
            assertEquals(DType.BF16, t.get("a").dtype());
            assertArrayEquals(new float[]{-2f, 0.5f}, c.stateDict().loadFloat("a").toFloatVector());
            assertTrue(t.get("b").isParameter());
            assertTrue(t.get("b").requiresGrad());
            assertArrayEquals(new float[]{8f, 9f}, c.stateDict().loadFloat("b").toFloatVector());
            assertTrue(t.get("c").isParameter());
            assertEquals(9f, c.stateDict().raw("c").bytes().getFloat(0));
        }
    }

    @Test
    void rebuildFromTypeOfATensorSubclassIsRefused() throws Exception {
        byte[] pkl = PickleBytes.proto2().global("torch._tensor", "_rebuild_from_type_v2").mark().global("torch", "Size")
                .global("torch", "Tensor").mark().emptyList().tuple().emptyDict().tuple().reduce().stop().bytes();
        CheckpointException e = refusedToOpen(write(torchZip("archive", pkl, "little"), "x.pt"));
        assertTrue(e.getMessage().contains("is not a tensor rebuild"), e.getMessage());
        byte[] sub = PickleBytes.proto2().global("torch._tensor", "_rebuild_from_type_v2").mark()
                .global("torch._utils", "_rebuild_tensor_v2").global("mylib", "QuantTensor").stop().bytes();
        e = refusedToOpen(write(torchZip("archive", sub, "little"), "y.pt"));
        assertTrue(e.getMessage().contains("refused pickle global mylib.QuantTensor"), e.getMessage());
    }

    @Test
    void stateDictSearch() throws Exception {
        byte[] underModel = PickleBytes.proto2().emptyDict().mark().str("epoch").integer(1).str("model").emptyDict().str("w")
                .tensorV2("FloatStorage", "0", 6, 0, new long[]{6}, new long[]{1}).setItem().setItems().stop().bytes();
        try (PtCheckpoint c = PtCheckpoint.open(write(torchZip("archive", underModel, "little", le(W)), "m.pt"))) {
            assertEquals(List.of("w"), c.stateDict().names());
            assertTrue(c.stateDict().description().endsWith("[model]"));
        }
        byte[] unusual = PickleBytes.proto2().emptyDict().mark().str("step").integer(1).str("empty").emptyDict()
                .str("my_weights").emptyDict().str("w")
                .tensorV2("FloatStorage", "0", 6, 0, new long[]{6}, new long[]{1}).setItem().setItems().stop().bytes();
        try (PtCheckpoint c = PtCheckpoint.open(write(torchZip("archive", unusual, "little", le(W)), "u.pt"))) {
            assertTrue(c.stateDict().description().endsWith("[my_weights]"), "first non-empty dict of tensors");
        }
        byte[] none = PickleBytes.proto2().emptyDict().mark().str("a").integer(1).str("b").emptyList().setItems().stop().bytes();
        try (PtCheckpoint c = PtCheckpoint.open(write(torchZip("archive", none, "little"), "n.pt"))) {
            CheckpointException e = assertThrows(CheckpointException.class, c::stateDict);
            assertTrue(e.getMessage().contains("holds a (int), b (list)"), e.getMessage());
        }
        try (PtCheckpoint c = PtCheckpoint.open(write(torchZip("archive", PickleBytes.proto2().emptyList().stop().bytes(), "little"), "l.pt"))) {
            assertTrue(assertThrows(CheckpointException.class, c::stateDict).getMessage().contains("holds a list"));
        }
    }

    @Test
    void readingAfterCloseIsRefused() throws Exception {
        PtCheckpoint c = PtCheckpoint.open(write(torchZip("archive", stateDictPickle().stop().bytes(), "little", le(W)), "x.pt"));
        TensorSource s = c.stateDict();
        c.close();
        assertTrue(assertThrows(CheckpointException.class, () -> s.raw("w")).getMessage().contains("closed"));
    }

    @Test
    void damagedPickleFailsItsCrc() throws Exception {
        Path p = write(torchZip("archive", stateDictPickle().stop().bytes(), "little", le(W)), "x.pt");
        byte[] b = Files.readAllBytes(p);
        int at = indexOf(b, "\u0080\u0002".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)) + 5;
        b[at] ^= 0x20;
        Files.write(p, b);
        assertTrue(refusedToOpen(p).getMessage().contains("is damaged: CRC-32"));
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }

    @ParameterizedTest
    @ValueSource(strings = {"model.pt", "lightning.ckpt", "lightning_omegaconf.ckpt", "dtypes.pt", "dtypes_extra.pt", "views.pt",
            "nested.pt"})
    void everyTruncationIsACheckpointException(String name) throws Exception {
        Path p = Files.copy(PtFixtureTest.fixtureDir().resolve(name), tmp.resolve(name));
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            for (long len = ch.size() - 1; len >= 0; len--) {
                ch.truncate(len);
                long cut = len;
                assertThrows(CheckpointException.class, () -> PtCheckpoint.open(p).close(), name + " cut at " + cut);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"model.pt", "lightning_omegaconf.ckpt", "views.pt", "nested.pt"})
    void corruptedFilesGiveCheckpointExceptionsOnly(String name) throws Exception {
        byte[] whole = Files.readAllBytes(PtFixtureTest.fixtureDir().resolve(name));
        Path p = tmp.resolve(name);
        Random r = new Random(name.hashCode());
        for (int trial = 0; trial < 400; trial++) {
            byte[] b = whole.clone();
            for (int k = 1 + r.nextInt(4); k > 0; k--) {
                int at = r.nextInt(b.length);
                b[at] = switch (r.nextInt(3)) {
                    case 0 -> (byte) r.nextInt(256);
                    case 1 -> (byte) 0xFF;
                    default -> (byte) (b[at] ^ 1 << r.nextInt(8));
                };
            }
            Files.write(p, b);
            try (PtCheckpoint c = PtCheckpoint.open(p)) {
                for (PtTensor t : c.flatten().values()) t.raw();
            } catch (CheckpointException expected) {
                // reported as a bad file: fine
            } catch (IOException | RuntimeException | Error e) {
                fail(name + " trial " + trial + " threw " + e, e);
            }
        }
    }
}
