"""ui.frame.present: what the server can tell of the reader's screen."""

import pytest

from ui.frame.present import phone_user_agent

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
ANDROID_PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/131.0.0.0 Mobile Safari/537.36")
ANDROID_TABLET = ("Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/131.0.0.0 Safari/537.36")
LAPTOP = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


@pytest.mark.parametrize("agent,phone", [(IPHONE, True), (ANDROID_PHONE, True),
                                         (ANDROID_TABLET, False), (LAPTOP, False), ("", False)])
def test_a_phone_is_told_by_its_user_agent(agent, phone):
    assert phone_user_agent(agent) is phone
