/* Decodes an H.264 Annex B stream with Cisco's OpenH264 and writes every picture as yuv420p.
 *
 * Usage: openh264_decode IN.h264 OUT.yuv   (OUT "-": standard output)
 *
 * A second decoder for the tests (tests/openh264.py compiles this against the system's
 * libopenh264-dev): qidsl writes its own skip slices, and FFmpeg's decoder is forgiving, so
 * each joined video is also decoded here.  Error concealment is off and every call's state
 * is checked: the first state that is not dsErrorFree (a broken slice, a lost reference, ...)
 * is printed and the program exits with status 2, having written the pictures decoded so far.
 * The stream is fed one NAL unit at a time, as OpenH264's own h264dec does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wels/codec_api.h>

static long write_picture(FILE *out, unsigned char *planes[3], const SBufferInfo *info) {
    const SSysMEMBuffer *b = &info->UsrData.sSystemBuffer;
    for (int plane = 0; plane < 3; plane++) {
        int width = plane ? b->iWidth / 2 : b->iWidth, height = plane ? b->iHeight / 2 : b->iHeight;
        int stride = b->iStride[plane ? 1 : 0];
        for (int row = 0; row < height; row++)
            if (fwrite(planes[plane] + (size_t)row * stride, 1, width, out) != (size_t)width) return -1;
    }
    return 1;
}

static int fail(const char *what, long state, long pictures) {
    fprintf(stderr, "openh264: %s: state 0x%lx after %ld pictures\n", what, state, pictures);
    return 2;
}

/* The offset of the next start code (00 00 01) at or after `from`, or `size`. */
static size_t next_start(const unsigned char *data, size_t size, size_t from) {
    for (size_t i = from; i + 2 < size; i++)
        if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) return i;
    return size;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s IN.h264 OUT.yuv\n", argv[0]);
        return 1;
    }
    FILE *in = fopen(argv[1], "rb"), *out = strcmp(argv[2], "-") ? fopen(argv[2], "wb") : stdout;
    if (!in || !out) {
        perror("openh264_decode");
        return 1;
    }
    fseek(in, 0, SEEK_END);
    size_t size = (size_t)ftell(in);
    fseek(in, 0, SEEK_SET);
    unsigned char *data = malloc(size + 4);
    if (!data || fread(data, 1, size, in) != size) {
        fprintf(stderr, "openh264_decode: cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(in);

    ISVCDecoder *decoder = NULL;
    if (WelsCreateDecoder(&decoder) != 0 || !decoder) return fail("WelsCreateDecoder", -1, 0);
    int trace = WELS_LOG_WARNING;
    (*decoder)->SetOption(decoder, DECODER_OPTION_TRACE_LEVEL, &trace);
    SDecodingParam param;
    memset(&param, 0, sizeof param);
    param.eEcActiveIdc = ERROR_CON_DISABLE;  /* an error is an error, never a concealed picture */
    param.sVideoProperty.size = sizeof param.sVideoProperty;
    param.sVideoProperty.eVideoBsType = VIDEO_BITSTREAM_AVC;
    if ((*decoder)->Initialize(decoder, &param) != 0) return fail("Initialize", -1, 0);

    long pictures = 0;
    unsigned char *planes[3];
    SBufferInfo info;
    size_t at = next_start(data, size, 0);
    while (at < size) {
        size_t end = next_start(data, size, at + 3);
        size_t unit_end = end;
        while (end < size && unit_end > at + 3 && data[unit_end - 1] == 0) unit_end--;  /* a 4-byte code's zero */
        memset(&info, 0, sizeof info);
        memset(planes, 0, sizeof planes);
        DECODING_STATE state = (*decoder)->DecodeFrameNoDelay(decoder, data + at, (int)(unit_end - at), planes, &info);
        if (state != dsErrorFree) return fail("DecodeFrameNoDelay", state, pictures);
        if (info.iBufferStatus == 1) {
            if (write_picture(out, planes, &info) < 0) return fail("write", -1, pictures);
            pictures++;
        }
        at = end;
    }
    /* Pictures held back for reordering (profiles above Baseline). */
    for (;;) {
        int remaining = 0;
        (*decoder)->GetOption(decoder, DECODER_OPTION_NUM_OF_FRAMES_REMAINING_IN_BUFFER, &remaining);
        if (remaining <= 0) break;
        memset(&info, 0, sizeof info);
        DECODING_STATE state = (*decoder)->FlushFrame(decoder, planes, &info);
        if (state != dsErrorFree) return fail("FlushFrame", state, pictures);
        if (info.iBufferStatus != 1) break;
        if (write_picture(out, planes, &info) < 0) return fail("write", -1, pictures);
        pictures++;
    }
    (*decoder)->Uninitialize(decoder);
    WelsDestroyDecoder(decoder);
    if (fclose(out) != 0) return fail("close", -1, pictures);
    free(data);
    fprintf(stderr, "%ld pictures\n", pictures);
    return 0;
}
