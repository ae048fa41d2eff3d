package bloom4j.models.vae;

import bloom4j.models.GaussianNoise;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityReport;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.List;

/**
 * Parity kind {@code oobleck-vae}: SongBloom's vendored stable-audio VAE at a tiny config. Loads {@code model.pt} (and the
 * Lightning-style {@code autoencoder.ckpt} with its JSON config, the way StableVAE loads the release), then compares the encoder
 * output, mean/scale, the latent sampled with the recorded noise, the mono StableVAE.encode, decode, the first decoder block and
 * the chunked decode_audio; adds the short-latent case upstream cannot run.
 */
public final class OobleckVaeParity implements ParityKind {

    @Override public String kind() { return "oobleck-vae"; }

    @Override public String description() {
        return "Oobleck VAE (stable-audio-tools via SongBloom): encode, VAE bottleneck, mono StableVAE.encode, decode, chunked decode_audio";
    }

    @Override public void run(Fixture f, ParityReport report) throws Exception {
        OobleckConfig config = OobleckConfig.fromJson(f.config().path("vae_config"));
        JsonNode chunking = f.config().path("decode_audio");
        int chunk = chunking.path("chunk_size").asInt(128), overlap = chunking.path("overlap").asInt(32);
        try (TensorSource src = Checkpoints.open(f.checkpoint())) {
            OobleckVae vae = OobleckVae.load(src, OobleckVae.detectPrefix(src), config, OobleckVae.Parts.ALL);
            INDArray audio = f.tensor("audio");
            OobleckVae.Encoded e = vae.encode(audio, GaussianNoise.replay(List.of(f.tensor("rng_randn"))));
            report.compare("encoder_out", e.encoderOutput(), f.tensor("encoder_out"));
            report.compare("mean", e.mean(), f.tensor("mean"));
            report.compare("scale", e.scale(), f.tensor("scale"));
            report.compare("latent", e.latent(), f.tensor("latent"));

            StableVae stable = new StableVae(vae);
            INDArray mono = f.tensor("mono_wav");
            INDArray twice = org.nd4j.linalg.factory.Nd4j.concat(1, mono, mono);
            report.compare("mono_encoder_out", vae.encoderOutput(twice), f.tensor("mono_encoder_out"));
            report.compare("mono_latent", stable.encode(mono, GaussianNoise.replay(List.of(f.tensor("rng_mono_randn")))),
                    f.tensor("mono_latent"));
            report.check("StableVAE.encode of < 2048 samples is empty",
                    stable.encode(mono.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 2047)),
                            GaussianNoise.zeros()).size(2) == 0, "");

            INDArray latent = f.tensor("latent_in");
            report.compare("decode_out", vae.decode(latent), f.tensor("decode_out"));
            report.compare("decoder_block1_out", vae.decoderLayer(latent, 1), f.tensor("decoder_block1_out"));
            INDArray first = latent.get(NDArrayIndex.interval(0, 1), NDArrayIndex.all(), NDArrayIndex.all()).dup('c');
            report.compare("decode_chunked_out", vae.decodeChunked(first, chunk, overlap), f.tensor("decode_chunked_out"));
            INDArray shortLatent = first.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, chunk - 1)).dup('c');
            report.compare("decode_chunked(T < chunk) = decode (upstream crashes)", vae.decodeChunked(shortLatent, chunk, overlap),
                    vae.decode(shortLatent));
        }
        // The Lightning-style checkpoint + JSON config, as StableVAE(vae_ckpt, vae_cfg) loads them.
        if (f.json().path("extra_files").has("autoencoder.ckpt")) {
            OobleckConfig fromFile = OobleckConfig.fromJson(new ObjectMapper().readTree(f.file("vae_config.json").toFile()));
            report.check("vae_config.json parses to the fixture's config", fromFile.equals(config), fromFile.toString());
            try (TensorSource ckpt = Checkpoints.open(f.file("autoencoder.ckpt"))) {
                OobleckVae vae = OobleckVae.load(ckpt, OobleckVae.detectPrefix(ckpt), fromFile, OobleckVae.Parts.DECODER);
                report.compare("decode_out (autoencoder.ckpt)", vae.decode(f.tensor("latent_in")), f.tensor("decode_out"));
            }
        }
    }
}
