package bloom4j.train;

import bloom4j.nn.lora.TargetSelector;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LoraPresetsTest {

    @Test void songBloomAdaptsQAndVOfTheArOnly() {
        TargetSelector s = new TargetSelector(LoraPresets.SONGBLOOM_AR.config());
        assertEquals(16, s.config().r());
        assertEquals(32.0, s.config().loraAlpha());
        assertFalse(s.config().useDora());
        assertTrue(s.matches("model.ar_transformer.layers.0.self_attn.q_proj"));
        assertTrue(s.matches("model.ar_transformer.layers.23.self_attn.v_proj"));
        assertFalse(s.matches("model.ar_transformer.layers.0.self_attn.k_proj"));
        assertFalse(s.matches("model.nar_dit.layers.0.self_attn.to_qkv"));
        assertEquals(2.0, s.scaling("model.ar_transformer.layers.0.self_attn.q_proj"));
    }

    @Test void ditTargetsWarn() {
        assertEquals(List.of(), LoraPresets.songBloomWarnings(List.of("model.ar_transformer.layers.0.self_attn.q_proj")));
        List<String> w = LoraPresets.songBloomWarnings(List.of("model.ar_transformer.layers.0.self_attn.q_proj",
                "model.nar_dit.layers.3.self_attn.to_qkv", "model.nar_dit.layers.3.self_attn.to_out"));
        assertEquals(1, w.size());
        assertTrue(w.get(0).contains("known to destroy vocal generation"), w.get(0));
        assertTrue(w.get(0).contains("model.nar_dit.layers.3.self_attn.to_qkv"), w.get(0));
    }

    @Test void zipVoiceAdaptsTheFmDecoderAttention() {
        TargetSelector s = new TargetSelector(LoraPresets.ZIPVOICE_FM_DECODER.config());
        assertTrue(s.config().useDora());
        assertEquals(32, s.config().r());
        assertEquals(64.0, s.config().loraAlpha());
        assertEquals(0.05, s.config().loraDropout());
        for (String m : List.of("fm_decoder.encoders.0.layers.0.self_attn_weights.in_proj", "fm_decoder.encoders.0.layers.1.self_attn1.in_proj",
                "fm_decoder.encoders.0.layers.1.self_attn2.out_proj", "fm_decoder.encoders.2.encoder.layers.1.self_attn1.out_proj",
                "fm_decoder.encoders.3.encoder.layers.0.self_attn_weights.in_proj")) {
            assertTrue(s.matches(m), m);
        }
        for (String m : List.of("fm_decoder.in_proj", "fm_decoder.out_proj", "text_encoder.encoders.0.layers.0.self_attn1.in_proj",
                "fm_decoder.encoders.0.layers.0.feed_forward1.in_proj", "fm_decoder.encoders.0.layers.0.self_attn_weights.linear_pos")) {
            assertFalse(s.matches(m), m);
        }
        assertEquals(LoraPresets.ZIPVOICE_FM_DECODER, LoraPresets.byName("ZipVoice-FM-Decoder").orElseThrow());
    }
}
