"""Local API and screens: proctor review console, candidate kiosk, officer-assisted admission, health and metrics."""
