#!/usr/bin/python3
"""Writes the peer TensorBoard fixtures with a writer independent of Anneal's.

TensorBoard itself (and torch.utils.tensorboard, which needs it) is not installable on the project's
machines: it is on PyPI only, and the Debian packages have no tensorboard. So the peer is assembled
from independent parts: Google's protobuf encoder (Debian python3-protobuf, messages compiled by
protoc from tb_subset.proto, which copies TensorBoard's field numbers), the crc32c module (Debian
python3-crc32c), and TFRecord framing as tensorboard/summary/writer/record_writer.py writes it.

    apt-get install python3-protobuf python3-crc32c protobuf-compiler
    /usr/bin/python3 make_peer_tfevents.py   # in this folder; rewrites peer-*.tfevents

The values follow closed forms that TensorBoardPeerTests recomputes:
loss(s) = 2 + 3 (s + 10)^-0.3, lr(s) = 3e-4 min(1, s / 50), eval(s) = loss(s) + 0.05.
"""
import os, struct, subprocess, sys, tempfile

import crc32c

here = os.path.dirname(os.path.abspath(__file__))
gen = tempfile.mkdtemp()
subprocess.check_call(["protoc", f"--proto_path={here}", f"--python_out={gen}", "tb_subset.proto"])
sys.path.insert(0, gen)
import tb_subset_pb2 as pb  # noqa: E402


def masked_crc32c(data):
    x = crc32c.crc32c(data)
    return (((x >> 15) | (x << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(f, data):
    # tensorboard/summary/writer/record_writer.py: u64 length, masked crc of it, data, masked crc of data
    header = struct.pack("<Q", len(data))
    f.write(header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data)))


def loss(s): return 2 + 3 * (s + 10) ** -0.3
def lr(s): return 3e-4 * min(1.0, s / 50)


def first(f, t):
    record(f, pb.Event(wall_time=t, file_version="brain.Event:2").SerializeToString())


# torch.utils.tensorboard / tensorboardX style: one simple_value per event, as HF's TensorBoardCallback logs
with open(os.path.join(here, "peer-simple.tfevents"), "wb") as f:
    first(f, 1.7e9)
    t = 1.7e9
    for s in range(10, 201, 10):
        for tag, v in (("train/loss", loss(s)), ("train/learning_rate", lr(s)), ("train/grad_norm", 1.0 / s), ("train/epoch", s / 100)):
            t += 0.01
            ev = pb.Event(wall_time=t, step=s, summary=pb.Summary(value=[pb.Summary.Value(tag=tag, simple_value=v)]))
            record(f, ev.SerializeToString())
        if s % 50 == 0:
            ev = pb.Event(wall_time=t, step=s, summary=pb.Summary(value=[pb.Summary.Value(tag="eval/loss", simple_value=loss(s) + 0.05)]))
            record(f, ev.SerializeToString())

# TF2 tf.summary.scalar style: rank-0 tensors (float_val; the LR as raw tensor_content double) with scalars plugin metadata
with open(os.path.join(here, "peer-tensor.tfevents"), "wb") as f:
    first(f, 1.7e9)
    meta = pb.SummaryMetadata(plugin_data=pb.SummaryMetadata.PluginData(plugin_name="scalars"), data_class=1)
    for s in range(0, 100, 5):
        vals = [
            pb.Summary.Value(tag="loss", metadata=meta if s == 0 else None,
                             tensor=pb.TensorProto(dtype=1, tensor_shape=pb.TensorShapeProto(), float_val=[loss(s)])),
            pb.Summary.Value(tag="lr", tensor=pb.TensorProto(dtype=2, tensor_shape=pb.TensorShapeProto(), tensor_content=struct.pack("<d", lr(s)))),
        ]
        record(f, pb.Event(wall_time=1.7e9 + s, step=s, summary=pb.Summary(value=vals)).SerializeToString())
print("wrote peer-simple.tfevents, peer-tensor.tfevents")
