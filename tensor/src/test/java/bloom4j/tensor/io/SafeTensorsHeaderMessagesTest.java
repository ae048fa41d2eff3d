package bloom4j.tensor.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A broken safetensors header says what is wrong with it, not only that the file is unreadable. */
class SafeTensorsHeaderMessagesTest {

    private static Path file(Path dir, String name, long declared, String json) throws Exception {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + body.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declared).put(body);
        Path f = dir.resolve(name);
        Files.write(f, b.array());
        return f;
    }

    private static String message(Path f) {
        return assertThrows(CheckpointException.class, () -> Checkpoints.open(f).close()).getMessage();
    }

    @Test void headerLengthProblemsAreNamed(@TempDir Path dir) throws Exception {
        String huge = message(file(dir, "huge.safetensors", Long.MAX_VALUE, "{}"));
        assertTrue(huge.contains("header length " + Long.MAX_VALUE) && huge.contains("larger than the 2 bytes after it"), huge);
        String neg = message(file(dir, "neg.safetensors", Long.MIN_VALUE, "{}"));
        assertTrue(neg.contains("header length is 9223372036854775808"), neg);
        String zero = message(file(dir, "zero.safetensors", 0, "{}"));
        assertTrue(zero.contains("header length is 0"), zero);
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertTrue(message(tiny).contains("too short for the 8-byte header length"), message(tiny));
    }

    @Test void aHeaderThatIsNotAnObjectIsNamed(@TempDir Path dir) throws Exception {
        String arr = message(file(dir, "array.safetensors", 5, "[1,2]"));
        assertTrue(arr.contains("does not start with '{'") && arr.contains("'['"), arr);
    }

    @Test void deepNestingIsAHeaderErrorNotACrash(@TempDir Path dir) throws Exception {
        String deep = "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        String m = message(file(dir, "deep.safetensors", deep.length(), deep));
        assertTrue(m.contains("deep.safetensors") && m.contains("tensor 'a': expected an object with dtype, shape and data_offsets, got an array"), m);
    }

    @Test void otherFilesListWhatWasExpectedAndTheBytesFound(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("notes.pt");
        Files.writeString(f, "hello world");
        String m = message(f);
        assertTrue(m.contains("not a checkpoint bloom4j can read") && m.contains("starts with bytes 68656c6c6f20776f"), m);
        Path empty = dir.resolve("empty.bin");
        Files.write(empty, new byte[0]);
        assertTrue(message(empty).contains("the file is empty"), message(empty));
    }
}
