/**
 * Audio files and resampling for every bloom4j model: {@link bloom4j.tensor.audio.AudioIO} (read wav/flac/mp3, write wav/flac/mp3
 * atomically), {@link bloom4j.tensor.audio.Audio} (channels-first float samples and their rate, channel mixing) and
 * {@link bloom4j.tensor.audio.Resampler} (torchaudio's default windowed-sinc resampler).
 *
 * <h2>Codecs</h2>
 * WAV is read and written here (Java Sound rejects float and most extensible WAVs). FLAC and MP3 need libraries; all are pure
 * Java from Maven Central, so no native code or external tool is needed:
 * <ul>
 *   <li>FLAC: {@code com.tianscar.javasound:javasound-flac} 1.4.1 (2023; LGPL-2.1 / Apache-2.0), which bundles the JustFLAC
 *       decoder (a port of libFLAC's) and javaFlacEncoder with later fixes. It is the most recently released pure-Java FLAC
 *       codec available from Central; the older {@code org.jflac:jflac-codec} (decoder) and
 *       {@code net.sourceforge.javaflacencoder} (encoder) are its unmaintained ancestors, and its author's successor
 *       project ({@code io.github.jseproject:jse-spi-flac}) is not reachable from this build's repository.</li>
 *   <li>MP3 decoding: {@code fr.delthas:javamp3} 1.0.1 (MIT), a compact modern MPEG-1 Layer III decoder, rather than the 2008
 *       JLayer/MP3SPI stack.</li>
 *   <li>MP3 encoding: {@code de.sciss:jump3r} 1.0.5 (LGPL-2.1), the Java port of LAME 3.98 and the only pure-Java MP3 encoder
 *       on Central.</li>
 * </ul>
 */
package bloom4j.tensor.audio;
