/**
 * Exports of captured events by query: the rows and their decoration (the live log's) come
 * from the engine's events service, the writing from ExportService.
 */
import type { ExportProgress } from '../../shared/contract'
import { ExportService, type ExportDestination, type ExportFormat, type ExportSource } from './export-service'

export class EventExports<Query> {
  private readonly service: ExportService

  constructor(
    private readonly rowsFor: (query: Query) => ExportSource | Promise<ExportSource>,
    report: (progress: ExportProgress) => void,
  ) {
    this.service = new ExportService(report)
  }

  /** Starts writing the query's rows, oldest first; progress is reported as it goes. Rejects when the query selects nothing that exists. */
  async start(query: Query, format: ExportFormat, destination: ExportDestination): Promise<string> {
    return this.service.start(await this.rowsFor(query), format, destination)
  }

  cancel(exportId: string): boolean {
    return this.service.cancel(exportId)
  }
}
