/** Electron main entry: hands the real Electron modules to the testable glue. */
import { app, BrowserWindow, dialog, ipcMain, safeStorage, session, shell } from 'electron'
import { runDesktopApp } from './app-main'

void runDesktopApp({ app, BrowserWindow, ipcMain, safeStorage, session, shell, dialog })
