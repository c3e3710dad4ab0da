#!/usr/bin/python3
"""A camera for Vigil's tests: GStreamer's RTSP server (Debian's gir1.2-gst-rtsp-server-1.0) serving an H.264 mp4
at rtsp://127.0.0.1:PORT/PATH, looped forever without re-encoding, optionally behind basic auth.

    /usr/bin/python3 rtsp-server.py PORT PATH FILE [--user U --password P] [--exit-with-stdin]

Prints "ready" once listening; exits on SIGTERM or SIGINT, and with --exit-with-stdin also when stdin closes (the
test runner that started it is gone), so no server outlives its tests.
"""

import argparse
import os
import signal
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

# The file's own H.264, repacketised: under 1% of a core per viewer, where decoding and encoding would take most of one.
LAUNCH = "( filesrc name=src ! qtdemux name=demux ! h264parse name=parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
ROLE = "camera-viewer"


def loop_forever(media: GstRtspServer.RTSPMedia, file: str) -> None:
    """Segment seeks: each pass of the file ends in SEGMENT_DONE instead of EOS (which would end the stream), and the
    next pass starts with a non-flushing seek, so timestamps keep running on as from a live camera."""
    pipeline = media.get_element()
    pipeline.get_by_name("src").set_property("location", file)  # set here, not in LAUNCH: any path, no quoting
    demux = pipeline.get_by_name("demux")
    state = {"segment": None, "continue_at": None}

    def rewind() -> bool:
        # Where this pass ends: the end of its last frame (qtdemux would start the next pass at the last frame's
        # start, so that frame and the next pass's first would share a timestamp, which ffmpeg's muxers complain of).
        segment = state["segment"]
        if segment is not None and segment.stop != Gst.CLOCK_TIME_NONE:
            state["continue_at"] = segment.to_running_time(Gst.Format.TIME, segment.stop)
        demux.seek(1.0, Gst.Format.TIME, Gst.SeekFlags.SEGMENT, Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1)
        return False

    def on_event(pad: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
        event = info.get_event()
        if event.type == Gst.EventType.SEGMENT_DONE:
            GLib.idle_add(rewind)  # from the main loop: a demuxer must not be seeked from its own streaming thread
        elif event.type == Gst.EventType.SEGMENT:
            segment = event.parse_segment().copy()
            continue_at, state["continue_at"] = state["continue_at"], None
            if continue_at is not None and continue_at != segment.base:
                segment.base = continue_at
                state["segment"] = segment
                pad.get_peer().push_event(Gst.Event.new_segment(segment))  # comes back here, with continue_at cleared
                return Gst.PadProbeReturn.DROP
            state["segment"] = segment
        return Gst.PadProbeReturn.OK

    # The payloader's segment, seen again after the flush below: until then a client's PLAY finds the media without
    # one, and the server aborts (gst_rtsp_media_get_rates: assertion failed).
    segment_out = threading.Event()

    def on_payloaded(_pad: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
        if info.get_event().type == Gst.EventType.SEGMENT:
            segment_out.set()
        return Gst.PadProbeReturn.OK

    def first_pass(_media: GstRtspServer.RTSPMedia) -> None:
        # Once prerolled, the first pass becomes a segment too (only a flushing seek can do that); the media is
        # not answered as prepared until the new segment is out.
        segment_out.clear()
        pipeline.seek(1.0, Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT, Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1)
        segment_out.wait(5)

    pipeline.get_by_name("parse").get_static_pad("sink").add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, on_event)
    pipeline.get_by_name("pay0").get_static_pad("src").add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, on_payloaded)
    media.connect("prepared", first_pass)


def main() -> int:
    parser = argparse.ArgumentParser(description="Serve a video file over RTSP in a loop, for tests")
    parser.add_argument("port", type=int)
    parser.add_argument("path")
    parser.add_argument("file")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--exit-with-stdin", action="store_true")
    args = parser.parse_args()
    if bool(args.user) != bool(args.password):
        parser.error("--user and --password go together")
    if not os.path.isfile(args.file):
        parser.error(f"no such file: {args.file}")  # now, rather than a 503 for each client

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(LAUNCH)
    # A pipeline per viewer (not shared), each from the file's start: the clip has one keyframe, at its start, so a
    # viewer joining a shared stream mid-way would wait up to a whole pass for a picture. Each costs little.
    factory.set_shared(False)
    # A camera cannot be seeked: with a clock and offset published the media says so, and ignores a PLAY's Range
    # (a flushing seek from a client would otherwise drop the segment flag, and the stream would end at the file's end).
    factory.set_publish_clock_mode(GstRtspServer.RTSPPublishClockMode.CLOCK_AND_OFFSET)
    factory.connect("media-configure", lambda _factory, media: loop_forever(media, args.file))

    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", ROLE)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_role_from_structure(Gst.Structure.new_from_string(f"{ROLE}, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"))
        factory.set_permissions(permissions)

    server.get_mount_points().add_factory("/" + args.path.lstrip("/"), factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1

    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    if args.exit_with_stdin:
        stdin = GLib.IOChannel.unix_new(sys.stdin.fileno())
        GLib.io_add_watch(stdin, GLib.PRIORITY_DEFAULT, GLib.IOCondition.IN | GLib.IOCondition.HUP, lambda *_: loop.quit())
    print("ready", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
