import { CompleteAsyncError, Context } from "hotmesh/activity"

/** Activities that hand their task token to `onToken` and complete asynchronously. */
export const createActivities = (onToken: (taskToken: Uint8Array, attempt: number) => void) => ({
  async chargeLater(_amount: number): Promise<string> {
    const { taskToken, attempt } = Context.current().info
    onToken(taskToken, attempt)
    throw new CompleteAsyncError()
  },
})
