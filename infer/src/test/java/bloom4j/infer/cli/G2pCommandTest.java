package bloom4j.infer.cli;

import bloom4j.tensor.cli.Captured;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bloom4j g2p}: phones, SongBloom ids and what is lost. */
class G2pCommandTest {
    @Test
    void japanesePhonesAndIds() {
        Captured r = Captured.run(() -> InferMain.run("g2p", "--lang", "ja", "[verse] 東京、切手"));   // kanji only: say it is Japanese
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("sentence 1: t o o ky o o pau k i cl t e"), r.output());
        assertTrue(r.output().contains("songbloom: [verse] t o o ky o o . k i cl t e"), r.output());
        // §3.8 ids: t 260, o 237, ky 231, k 230, i 168, cl 134, e 137; [verse] 1, '.' 11
        assertTrue(r.output().contains("ids (13 of at most 600): 1 260 237 237 231 237 237 11 230 168 134 260 137"), r.output());
        assertTrue(r.output().contains("nothing lost"), r.output());
    }

    @Test
    void devoicingAndLoss() {
        Captured d = Captured.run(() -> InferMain.run("g2p", "--devoice", "明日は晴れです。"));
        assertTrue(d.output().contains("sentence 1: a sh I t a w a h a r e d e s U"), d.output());
        Captured lost = Captured.run(() -> InferMain.run("g2p", "[verse] hello qzxvkw"));
        assertEquals(1, lost.exitCode(), lost.output());
        assertTrue(lost.output().contains("songbloom: [verse] HH AH0 L OW1") && lost.output().contains("unread: qzxvkw"), lost.output());
        Captured zh = Captured.run(() -> InferMain.run("g2p", "[verse] 你好"));
        assertEquals(0, zh.exitCode(), zh.output());
        assertTrue(zh.output().contains("language: Chinese/English") && zh.output().contains("songbloom: [verse] n i2 h ao3"), zh.output());
        Captured bad = Captured.run(() -> InferMain.run("g2p", "--lang", "en", "hello"));
        assertEquals(2, bad.exitCode(), bad.output());
    }

    @Test
    void zipvoiceTarget() {
        Captured r = Captured.run(() -> InferMain.run("g2p", "--target", "zipvoice", "--devoice", "明日は晴れです。"));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("zipvoice: a sh I t a w a h a r e d e s U"), r.output());
        assertTrue(r.output().contains("ids: 14 381 362 32 14 35 14 20 14 30 18 17 18 31 365"), r.output());
    }
}
