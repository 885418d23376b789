"""Pipeline consumer callbacks: order, unsubscribe (also from within a callback), failures."""

from usguide.pipeline.subscribers import Subscribers


def test_emit_calls_each_in_order_and_unsubscribe_stops_it():
    errors, seen = [], []
    subscribers = Subscribers(errors.append)
    subscribers.add(lambda item: seen.append(("a", item)))
    remove_b = subscribers.add(lambda item: seen.append(("b", item)))
    subscribers.emit(1)
    remove_b()
    subscribers.emit(2)
    assert seen == [("a", 1), ("b", 1), ("a", 2)]
    assert errors == []


def test_a_failing_callback_is_reported_and_the_others_still_run():
    errors, seen = [], []
    subscribers = Subscribers(errors.append)

    def broken(item):
        raise ValueError("boom")

    subscribers.add(broken)
    subscribers.add(seen.append)
    subscribers.emit(7)
    assert seen == [7]
    assert len(errors) == 1 and "boom" in errors[0]


def test_a_callback_may_unsubscribe_itself_while_called():
    seen = []
    subscribers = Subscribers(lambda message: None)

    def once(item):
        seen.append(item)
        remove()

    remove = subscribers.add(once)
    subscribers.add(lambda item: seen.append(-item))
    subscribers.emit(1)
    subscribers.emit(2)
    assert seen == [1, -1, -2]
