"""The window's replay actions: the replay bar's play, step, seek, speed, loop and overlay mode
sent to the runtime's replay, and the replay's position shown in the bar.
"""

from __future__ import annotations

from collections.abc import Callable

from usguide.defaults import FALLBACK_FPS
from usguide.gui.replay_bar import ReplayBar
from usguide.gui.runtime import Runtime


class ReplayActions:
    """Connects the replay bar to ``runtime``'s replay and shows the replay in the bar.

    Args:
        runtime: owns the replay (None while a live source is open).
        bar: the replay widgets.
        changed: called after each control that ran (the window refreshes its numbers).
    """

    def __init__(self, runtime: Runtime, bar: ReplayBar, changed: Callable[[], None]) -> None:
        self.runtime = runtime
        self.bar = bar
        self._changed = changed
        # The runtime's methods are looked up when a signal arrives, so a runtime without replay
        # controls (the window tests' stand-in) still builds the window.
        bar.play_toggled.connect(self.control(lambda playing: runtime.replay_set_playing(playing)))
        bar.step.connect(self.control(lambda delta: runtime.replay_step(delta)))
        bar.seek.connect(self.control(lambda index: runtime.replay_seek(index)))
        bar.speed_changed.connect(self.control(lambda speed: runtime.replay_set_speed(speed)))
        bar.loop_changed.connect(self.control(lambda loop: runtime.replay_set_loop(loop)))
        bar.overlay_mode_changed.connect(
            self.control(lambda mode: runtime.replay_set_overlay_mode(mode))
        )

    def control(self, control: Callable[[object], None]) -> Callable[[object], None]:
        """A replay slot: runs ``control`` when a recorded source plays, then reports the change.

        Args:
            control: the runtime's replay control, called with the slot's value.

        Returns:
            The slot; it does nothing while no recorded source is open.
        """

        def slot(value: object) -> None:
            if self.runtime.replay is None:
                return
            control(value)
            self._changed()

        return slot

    def show_frame(self, index: int) -> None:
        """Shows the painted frame ``index`` as the replay's position (not for a live source)."""
        replay = self.runtime.replay
        if replay is not None:
            info = self.runtime.info
            fps = info.fps if info is not None else FALLBACK_FPS
            self.bar.show_position(index, replay.frame_count, fps, replay.playing)

    def show_source(self) -> None:
        """Shows the bar at the replay's position for a recorded source; hides it for a live one."""
        info = self.runtime.info
        replay = self.runtime.replay
        self.bar.setVisible(replay is not None)
        if replay is not None:
            self.bar.set_recorded_overlay_available(self.runtime.has_recorded_overlay)
            self.bar.show_position(
                replay.position,
                replay.frame_count,
                info.fps if info else FALLBACK_FPS,
                replay.playing,
            )
