"""LatestSlot: newest wins, each item taken once, overwrites counted as drops."""

import threading

from usguide.pipeline.slots import LatestSlot


def test_newest_wins_and_drops_counted():
    slot: LatestSlot[int] = LatestSlot()
    assert slot.put(1) is None
    assert slot.put(2) == 1
    assert slot.put(3) == 2
    assert slot.drops == 2 and slot.puts == 3
    assert slot.get(timeout=0) == 3
    assert slot.get(timeout=0.01) is None  # taken once only
    assert slot.get_nowait() is None


def test_get_waits_for_a_put_from_another_thread():
    slot: LatestSlot[str] = LatestSlot()
    timer = threading.Timer(0.05, slot.put, args=("x",))
    timer.start()
    assert slot.get(timeout=5) == "x"
    timer.join()


def test_close_wakes_waiters_and_clear_is_not_a_drop():
    slot: LatestSlot[int] = LatestSlot()
    got = []
    waiter = threading.Thread(target=lambda: got.append(slot.get()))
    waiter.start()
    slot.close()
    waiter.join(5)
    assert not waiter.is_alive() and got == [None]
    slot.reopen()
    slot.put(7)
    assert slot.clear() == 7 and slot.drops == 0 and slot.empty
