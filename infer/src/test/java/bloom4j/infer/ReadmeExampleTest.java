package bloom4j.infer;

import bloom4j.models.songbloom.TinySongBloom;
import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.AudioFormat;
import bloom4j.tensor.audio.AudioIO;
import bloom4j.tensor.parity.Fixture;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's Java API example is {@code examples/embed/src/main/java/example/EmbedExample.java}, verbatim; it compiles against
 * bloom4j's jars alone and runs as written, in a fresh JVM, in a folder holding the files it names (a tiny SongBloom saved
 * under the released checkpoint's name, its config as the YAML, a prompt and the pt-formats fixture).
 */
class ReadmeExampleTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static final Path EXAMPLE = ROOT.resolve("examples/embed/src/main/java/example/EmbedExample.java");

    @Test
    void theReadmeShowsTheExampleFileVerbatim() throws Exception {
        String readme = Files.readString(ROOT.resolve("README.md"));
        Matcher m = Pattern.compile("## Java API\\n.*?```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(), "README has a ```java block under '## Java API'");
        assertEquals(Files.readString(EXAMPLE), m.group(1), "the README block must be " + ROOT.relativize(EXAMPLE) + " as it is");
    }

    @Test
    void theExampleCompilesAndRunsAsWritten(@TempDir Path tmp) throws Exception {
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diag = new ByteArrayOutputStream();
        int rc = javac.run(null, diag, diag, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"),
                "--release", "17", "-Xlint:all,-path", "-Werror", EXAMPLE.toString());
        assertEquals(0, rc, diag.toString(StandardCharsets.UTF_8));

        Path work = Files.createDirectories(tmp.resolve("work"));
        Path tiny = TinySongBloom.write(tmp.resolve("tiny"), 7);
        Files.copy(tiny.resolve("model.safetensors"), work.resolve("songbloom_full_150s.pt")); // opened by content, not by name
        ObjectMapper om = new ObjectMapper();
        Files.writeString(work.resolve("songbloom_full_150s.yaml"),
                om.writeValueAsString(om.readTree(tiny.resolve("config.json").toFile()).get("upstream_config"))); // JSON is YAML
        float[] x = new float[48000];
        for (int i = 0; i < x.length; i++) x[i] = (float) (0.3 * Math.sin(2 * Math.PI * 330 * i / 48000.0));
        AudioIO.write(work.resolve("prompt.wav"), Audio.mono(x, 48000), AudioFormat.WAV_PCM16);
        Fixture.unpackBundled("pt-formats", work.resolve("fixtures/pt-formats"));

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", classes + File.pathSeparator + System.getProperty("java.class.path"),
                "example.EmbedExample").directory(work.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES));
        String log = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), log);
        assertTrue(log.contains("parity PASS; wrote out.flac"), log);
        assertTrue(log.contains("(end of song: not kept)") || log.contains("block 0 of at most"), log);
        Audio song = AudioIO.read(work.resolve("out.flac"));
        assertEquals(48000, song.sampleRate());
        assertTrue(song.frames() > 0);
    }
}
